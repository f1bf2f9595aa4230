// KafkaJS 2.2.4's admin client against a Gregor cluster, for test_admin.py: it creates a topic,
// produces to it, and calls describeCluster, describeConfigs, alterConfigs, createPartitions,
// fetchTopicOffsets, fetchTopicOffsetsByTimestamp and deleteTopicRecords, printing one JSON object with what each
// returned. Run with NODE_PATH=.deps/js/node_modules.
//
//   node admin.js --bootstrap B --topic T
'use strict';

const { Kafka, logLevel, ConfigResourceTypes } = require('kafkajs');

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}

async function main() {
  const kafka = new Kafka({ clientId: 'gregor-admin-test', brokers: args.bootstrap.split(','),
                            logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  const out = {};
  const topic = args.topic;
  out.created = await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 2, replicationFactor: 3,
               configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
  });
  const producer = kafka.producer();
  await producer.connect();
  const base = Date.now() - 100000;
  for (let i = 0; i < 10; i++) {
    await producer.send({ topic, acks: -1,
                          messages: [{ partition: 0, value: 'v' + i, timestamp: String(base + i * 1000) }] });
  }
  await producer.disconnect();

  out.cluster = await admin.describeCluster();
  const describe = async () => {
    const r = await admin.describeConfigs({
      includeSynonyms: true,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
    });
    const entries = {};
    for (const e of r.resources[0].configEntries) {
      entries[e.configName] = { value: e.configValue, isDefault: e.isDefault,
                                source: e.configSource, readOnly: e.readOnly };
    }
    return { errorCode: r.resources[0].errorCode, entries };
  };
  out.before = await describe();
  await admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic,
                  configEntries: [{ name: 'segment.ms', value: '7200000' }] }],
  });
  out.after = await describe();
  const broker = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.BROKER, name: String(out.cluster.brokers[0].nodeId) }],
  });
  out.broker = broker.resources[0].configEntries
    .filter((e) => ['log.retention.ms', 'num.partitions', 'node.id'].includes(e.configName))
    .map((e) => ({ name: e.configName, value: e.configValue, readOnly: e.readOnly }));
  await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  out.partitions = meta.topics[0].partitions.length;
  out.offsets = await admin.fetchTopicOffsets(topic);
  out.byTimestamp = await admin.fetchTopicOffsetsByTimestamp(topic, base + 4500);
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '3' }] });
  out.afterDelete = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
