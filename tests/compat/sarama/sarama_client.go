// A Go client on Debian's sarama (1.22) for tests/compat/test_sarama.py: with the Kafka version
// it is told to assume, it creates a topic, produces keyed messages with acks=all, reads every
// partition back from the oldest offset, and describes the topic and the cluster. It prints one
// JSON object with what it saw; any error exits 1 with the error on stderr.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/Shopify/sarama"
)

type partitionInfo struct {
	ID       int32   `json:"id"`
	Leader   int32   `json:"leader"`
	Replicas []int32 `json:"replicas"`
	Isr      []int32 `json:"isr"`
	Offline  []int32 `json:"offline"`
	Newest   int64   `json:"newest"`
	Oldest   int64   `json:"oldest"`
	Values   []string `json:"values"`
}

type result struct {
	Version      string          `json:"version"`
	Produced     int             `json:"produced"`
	ControllerID int32           `json:"controller_id"`
	Brokers      []int32         `json:"brokers"`
	Partitions   []partitionInfo `json:"partitions"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	version := flag.String("version", "1.0.0", "the Kafka version sarama assumes")
	topic := flag.String("topic", "", "topic to create and use")
	partitions := flag.Int("partitions", 3, "partitions of the topic")
	messages := flag.Int("messages", 300, "messages to produce")
	flag.Parse()

	v, err := sarama.ParseKafkaVersion(*version)
	if err != nil {
		fail("version: %v", err)
	}
	config := sarama.NewConfig()
	config.Version = v
	config.ClientID = "gregor-sarama-test"
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Return.Successes = true
	config.Producer.Partitioner = sarama.NewHashPartitioner
	config.Producer.Retry.Max = 10
	config.Metadata.Retry.Max = 20
	config.Metadata.Retry.Backoff = 250 * time.Millisecond
	config.Consumer.Return.Errors = true
	addrs := strings.Split(*brokers, ",")

	admin, err := sarama.NewClusterAdmin(addrs, config)
	if err != nil {
		fail("admin: %v", err)
	}
	defer admin.Close()
	err = admin.CreateTopic(*topic, &sarama.TopicDetail{NumPartitions: int32(*partitions), ReplicationFactor: 3}, false)
	if err != nil {
		fail("create topic: %v", err)
	}

	client, err := sarama.NewClient(addrs, config)
	if err != nil {
		fail("client: %v", err)
	}
	defer client.Close()
	// Wait until every partition has a leader.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_ = client.RefreshMetadata(*topic)
		ids, err := client.Partitions(*topic)
		ready := err == nil && len(ids) == *partitions
		for _, p := range ids {
			if _, err := client.Leader(*topic, p); err != nil {
				ready = false
			}
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			fail("topic %s has no leaders after 30 s: %v", *topic, err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		fail("producer: %v", err)
	}
	for i := 0; i < *messages; i++ {
		msg := &sarama.ProducerMessage{
			Topic: *topic,
			Key:   sarama.StringEncoder(fmt.Sprintf("k%d", i%17)),
			Value: sarama.StringEncoder(fmt.Sprintf("m%d", i)),
		}
		if _, _, err := producer.SendMessage(msg); err != nil {
			fail("produce m%d: %v", i, err)
		}
	}
	producer.Close()

	out := result{Version: *version, Produced: *messages}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		fail("consumer: %v", err)
	}
	defer consumer.Close()
	for p := int32(0); p < int32(*partitions); p++ {
		info := partitionInfo{ID: p}
		if info.Newest, err = client.GetOffset(*topic, p, sarama.OffsetNewest); err != nil {
			fail("newest offset of %d: %v", p, err)
		}
		if info.Oldest, err = client.GetOffset(*topic, p, sarama.OffsetOldest); err != nil {
			fail("oldest offset of %d: %v", p, err)
		}
		if info.Newest > info.Oldest {
			pc, err := consumer.ConsumePartition(*topic, p, sarama.OffsetOldest)
			if err != nil {
				fail("consume %d: %v", p, err)
			}
			timeout := time.After(30 * time.Second)
			for int64(len(info.Values)) < info.Newest-info.Oldest {
				select {
				case m := <-pc.Messages():
					info.Values = append(info.Values, string(m.Value))
				case e := <-pc.Errors():
					fail("consume %d: %v", p, e)
				case <-timeout:
					fail("consume %d: %d of %d messages after 30 s", p, len(info.Values), info.Newest-info.Oldest)
				}
			}
			pc.Close()
		}
		out.Partitions = append(out.Partitions, info)
	}

	described, err := admin.DescribeTopics([]string{*topic})
	if err != nil || len(described) != 1 || described[0].Err != sarama.ErrNoError {
		fail("describe topics: %v %v", err, described)
	}
	for _, pm := range described[0].Partitions {
		for i := range out.Partitions {
			if out.Partitions[i].ID == pm.ID {
				out.Partitions[i].Leader = pm.Leader
				out.Partitions[i].Replicas = pm.Replicas
				out.Partitions[i].Isr = pm.Isr
				out.Partitions[i].Offline = pm.OfflineReplicas
			}
		}
	}
	// DescribeCluster sends Metadata v0 (sarama 1.22), which has no controller: the client's
	// Controller() reads it from its own Metadata v1+/v5 answer.
	brokerList, _, err := admin.DescribeCluster()
	if err != nil {
		fail("describe cluster: %v", err)
	}
	controller, err := client.Controller()
	if err != nil {
		fail("controller: %v", err)
	}
	out.ControllerID = controller.ID()
	for _, b := range brokerList {
		out.Brokers = append(out.Brokers, b.ID())
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fail("json: %v", err)
	}
}
