// KafkaJS 2.2.4's idempotent producer (idempotent: true, maxInFlightRequests 5) for
// test_idempotence.py: one sequential sender per partition (KafkaJS keeps a partition's order
// only when its sends do not overlap; they share connections, up to 5 requests in flight),
// values "%09d" of a sequence number, seq % partitions its partition, about `rate` messages per
// second in all. One JSON line per acknowledgement ({"seq", "partition", "offset"}) or failure
// ({"seq", "partition", "error"}); when stdin closes it finishes the sends under way, prints
// {"done": true, "sent_per_partition": [...]} and exits.
// Run with NODE_PATH=.deps/js/node_modules:
//
//   node idempotent_producer.js --bootstrap B --topic T --partitions 2 --rate 200
'use strict';

const { Kafka, logLevel } = require('kafkajs');

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}
const partitions = Number(args.partitions);
const rate = Number(args.rate);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let stopping = false;
process.stdin.on('data', () => {});
process.stdin.on('end', () => { stopping = true; });

async function main() {
  const kafka = new Kafka({
    clientId: 'gregor-idempotence-test',
    brokers: args.bootstrap.split(','),
    logLevel: logLevel.ERROR,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 1000000 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  // Partition p sends the sequence numbers p, p + partitions, p + 2 * partitions, ... at
  // rate / partitions messages per second: a partition stalled by a failover does not hold up
  // the others.
  const sent = new Array(partitions).fill(0);
  const interval = (1000 * partitions) / rate;
  const start = Date.now();
  const sender = async (partition) => {
    while (!stopping) {
      const due = start + sent[partition] * interval;
      if (Date.now() < due) {
        await sleep(due - Date.now());
        continue;
      }
      const seq = partition + sent[partition] * partitions;
      sent[partition]++;
      const value = String(seq).padStart(9, '0');
      try {
        const [meta] = await producer.send({ topic: args.topic, acks: -1, timeout: 5000,
                                             messages: [{ partition, value }] });
        out({ seq, partition: meta.partition, offset: Number(meta.baseOffset) });
      } catch (e) {
        out({ seq, partition, error: String(e && e.message) });
      }
    }
  };
  const senders = [];
  for (let p = 0; p < partitions; p++) senders.push(sender(p));
  await Promise.all(senders);
  out({ done: true, sent_per_partition: sent });
  await producer.disconnect();
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack) + '\n');
  process.exit(1);
});
