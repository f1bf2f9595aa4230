// One KafkaJS 2.2.4 group member for test_groups.py, run with node and NODE_PATH pointing at the
// node_modules that deploy/install-deps.sh fills (.deps/js/node_modules). It speaks the same JSON
// lines as group_consumer.py, each with "t" = CLOCK_MONOTONIC seconds (process.hrtime):
//   started, assigned {partitions} (GROUP_JOIN), msg {p, o, v} (consumer.run eachMessage),
//   commit {offsets} (COMMIT_OFFSETS: the coordinator accepted it), error {name, str}, closed.
// consumer.run commits the resolved offsets after every batch (autoCommit, no interval or
// threshold); SIGTERM disconnects (commits, leaves the group) and exits 0.
//
//   node group_consumer.js --bootstrap B --group G --topic T [--session-timeout-ms N]
//                          [--from-beginning true|false]
'use strict';

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}

const now = () => Number(process.hrtime.bigint()) / 1e9;
const emit = (ev, fields = {}) => {
  process.stdout.write(JSON.stringify(Object.assign({ ev, t: now() }, fields)) + '\n');
};

let kafkajs;
try {
  kafkajs = require('kafkajs');
} catch (e) {
  process.stderr.write(
    'kafkajs is not installed (NODE_PATH=' + (process.env.NODE_PATH || '') + '): run ' +
      'deploy/install-deps.sh, which runs npm install --prefix .deps/js kafkajs@2.2.4\n' +
      String(e) + '\n');
  process.exit(3);
}
const { Kafka, logLevel } = kafkajs;

async function main() {
  const kafka = new Kafka({
    clientId: 'group-consumer-js',
    brokers: args.bootstrap.split(','),
    logLevel: logLevel.WARN,
    retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const consumer = kafka.consumer({
    groupId: args.group,
    sessionTimeout: Number(args['session-timeout-ms'] || 10000),
    heartbeatInterval: 1000,
    // disconnect() waits for the fetch in flight, which the broker holds this long when there
    // is nothing new (KafkaJS's default is 5000).
    maxWaitTimeInMs: 500,
  });
  const topic = args.topic;
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const parts = (e.payload.memberAssignment[topic] || []).slice().sort((a, b) => a - b);
    emit('assigned', { partitions: parts, member: e.payload.memberId, leader: e.payload.isLeader });
  });
  consumer.on(consumer.events.COMMIT_OFFSETS, (e) => {
    const offsets = {};
    for (const t of e.payload.topics) {
      if (t.topic !== topic) continue;
      for (const p of t.partitions) offsets[String(p.partition)] = Number(p.offset);
    }
    emit('commit', { offsets });
  });
  consumer.on(consumer.events.CRASH, (e) => {
    emit('error', { name: e.payload.error.name, str: String(e.payload.error.message) });
  });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await consumer.disconnect();
    } catch (e) {
      emit('error', { name: e.name, str: String(e.message) });
    }
    emit('closed');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  emit('started', { pid: process.pid, client: 'kafkajs' });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: (args['from-beginning'] || 'true') === 'true' });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      emit('msg', {
        p: partition,
        o: Number(message.offset),
        v: message.value === null ? null : message.value.toString(),
      });
    },
  });
}

main().catch((e) => {
  emit('error', { name: e.name, str: String(e.stack || e) });
  process.exit(1);
});
