// Debian's sarama (1.22) with Producer.Idempotent for tests/replication/test_idempotence.py: an
// AsyncProducer (acks=all, retries without end; sarama 1.22's idempotent producer requires
// Net.MaxOpenRequests = 1) writing values "%09d" of a sequence number, seq % partitions its
// partition, about `rate` messages per second.
//
// One message per batch (Flush.MaxMessages = 1): when its connection to a leader breaks with a
// request in flight, sarama 1.22 re-queues that request's messages one by one and groups them
// again with those queued behind them (IBM/sarama#1070, #1430). A regrouped retry has the first
// sequence of a batch the broker already holds and a different last one, which Kafka (and Gregor,
// and Redpanda) must refuse with OUT_OF_ORDER_SEQUENCE_NUMBER — after which every later batch of
// the partition is out of order too. With single-message batches a retry is the batch it repeats,
// and the broker answers it with its original offset. One JSON line per acknowledgement ({"seq",
// "partition", "offset"}) or failure ({"seq", "partition", "error"}); when stdin closes it stops
// producing, waits for every answer, prints {"done": true, "sent": N} and exits.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

func main() {
	brokers := flag.String("brokers", "", "bootstrap servers")
	topic := flag.String("topic", "", "topic")
	partitions := flag.Int("partitions", 1, "partitions")
	rate := flag.Float64("rate", 200, "messages per second")
	flag.Parse()

	config := sarama.NewConfig()
	config.Version = sarama.V2_1_0_0
	config.ClientID = "gregor-idempotence-test"
	config.Producer.Idempotent = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Retry.Max = 1000000
	config.Producer.Retry.Backoff = 100 * time.Millisecond
	config.Producer.Return.Successes = true
	config.Producer.Return.Errors = true
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Producer.Timeout = 5 * time.Second
	config.Producer.Flush.Frequency = 2 * time.Millisecond
	config.Producer.Flush.MaxMessages = 1
	config.Net.MaxOpenRequests = 1
	config.Net.DialTimeout = time.Second
	config.Net.ReadTimeout = 6 * time.Second
	config.Metadata.Retry.Max = 1000000
	config.Metadata.Retry.Backoff = 100 * time.Millisecond
	config.Metadata.RefreshFrequency = time.Second

	producer, err := sarama.NewAsyncProducer(strings.Split(*brokers, ","), config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "producer: %v\n", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	emit := func(v map[string]interface{}) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(v)
	}
	var answers sync.WaitGroup
	answers.Add(2)
	go func() {
		defer answers.Done()
		for m := range producer.Successes() {
			emit(map[string]interface{}{"seq": m.Metadata.(int), "partition": m.Partition, "offset": m.Offset})
		}
	}()
	go func() {
		defer answers.Done()
		for e := range producer.Errors() {
			emit(map[string]interface{}{"seq": e.Msg.Metadata.(int), "partition": e.Msg.Partition, "error": e.Err.Error()})
		}
	}()

	stop := make(chan struct{})
	go func() {
		io.Copy(ioutil.Discard, os.Stdin)
		close(stop)
	}()
	interval := time.Duration(float64(time.Second) / *rate)
	ticker := time.NewTicker(interval)
	sent := 0
loop:
	for {
		select {
		case <-stop:
			break loop
		case <-ticker.C:
			producer.Input() <- &sarama.ProducerMessage{
				Topic:     *topic,
				Partition: int32(sent % *partitions),
				Value:     sarama.StringEncoder(fmt.Sprintf("%09d", sent)),
				Metadata:  sent,
			}
			sent++
		}
	}
	ticker.Stop()
	producer.AsyncClose()
	answers.Wait()
	emit(map[string]interface{}{"done": true, "sent": sent})
}
