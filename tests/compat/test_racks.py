"""Rack awareness (issue 13) on a 3-rack cluster, one broker per rack (broker.rack=rack-N): the
controller spreads a partition's replicas over racks; with replica.selector.class set to Kafka's
RackAwareReplicaSelector, a consumer with client.rack (librdkafka, KIP-392) is sent by the
leader to the in-sync replica in its rack and reads there (below that replica's high
watermark), as the brokers' own logs show; when that replica leaves the ISR the leader no
longer names it and the consumer goes on from the leader."""

import signal
import time

from confluent_kafka import Consumer, Producer, TopicPartition

from cluster import unique_topic
from test_protocol_versions import by_partition, create, fetch_body, metadata
from wire import RawConnection

SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
GREGOR_BROKER_OVERRIDES = {"broker.rack": "rack-{id}", "replica.selector.class": SELECTOR,
                           "replica.lag.time.max.ms": "3000"}


def log_of(cluster, broker):
    with open(cluster.brokers[broker].log_path, errors="replace") as f:
        return f.read()


def produce(cluster, topic, values):
    p = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all"})
    for v in values:
        p.produce(topic, value=v, partition=0)
    assert p.flush(30) == 0


def consume(consumer, n, timeout=30):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        m = consumer.poll(0.5)
        if m is not None and not m.error():
            got.append(m.value())
    return got


def test_replicas_are_spread_over_racks(cluster):
    topic = unique_topic("racks")
    create(cluster, topic, partitions=6, replication_factor=2)
    resp = metadata(cluster.live_port(), 12, [{"topic_id": "00" * 16, "name": topic}])
    racks = {b["node_id"]: b["rack"] for b in resp["brokers"]}
    assert racks == {1: "rack-1", 2: "rack-2", 3: "rack-3"}
    parts = resp["topics"][0]["partitions"]
    assert len(parts) == 6
    for p in parts:
        assert len({racks[r] for r in p["replica_nodes"]}) == 2
    assert sorted(p["leader_id"] for p in parts) == [1, 1, 2, 2, 3, 3]


def test_a_consumer_reads_from_the_replica_in_its_rack(cluster):
    topic = unique_topic("ff")
    leaders = create(cluster, topic, assignments=[[1, 2, 3]])
    assert leaders[0] == 1
    produce(cluster, topic, [b"m%d" % i for i in range(200)])
    # The leader names the replica in the client's rack, and serves clients of its own rack or of
    # an unknown one itself.
    with RawConnection(cluster.broker(1).kafka_port) as c:
        for rack, preferred in (("rack-2", 2), ("rack-3", 3), ("rack-1", -1), ("rack-9", -1), ("", -1)):
            body = fetch_body([(topic, [(0, 0, -1)])])
            body["rack_id"] = rack
            part = by_partition(c.call("Fetch", 11, body))[(topic, 0)]
            assert part["preferred_read_replica"] == preferred, rack
            assert bool(part["records"]) == (preferred == -1), rack
            assert part["high_watermark"] == 200
        # Fetch v10 has no rack: the leader serves.
        part = by_partition(c.call("Fetch", 10, fetch_body([(topic, [(0, 0, -1)])])))[(topic, 0)]
        assert part["records"]
    # A follower serves a v11+ consumer fetch, below its own high watermark; not a v10 one.
    with RawConnection(cluster.broker(3).kafka_port) as c:
        deadline = time.monotonic() + 10
        while True:  # the follower learns the high watermark on its next fetch
            part = by_partition(c.call("Fetch", 11, fetch_body([(topic, [(0, 0, -1)])])))[(topic, 0)]
            assert part["error_code"] == 0
            if part["high_watermark"] == 200:
                break
            assert time.monotonic() < deadline, part
            time.sleep(0.05)
        assert part["records"]
        part = by_partition(c.call("Fetch", 10, fetch_body([(topic, [(0, 0, -1)])])))[(topic, 0)]
        assert part["error_code"] == 6  # NOT_LEADER_OR_FOLLOWER

    consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "ff-" + topic,
                         "client.rack": "rack-3", "enable.auto.commit": False,
                         "fetch.wait.max.ms": 100})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        assert consume(consumer, 200) == [b"m%d" % i for i in range(200)]
        line = "serving consumer fetches of %s-0 as a follower (client rack 'rack-3')" % topic
        assert line in log_of(cluster, 3)
        assert ("fetches of %s-0 as a follower" % topic) not in log_of(cluster, 2)
        # Its replica falls out of the ISR (paused past replica.lag.time.max.ms): the leader
        # stops naming it; once it runs again it refuses the consumer (NOT_LEADER_OR_FOLLOWER,
        # no longer in sync), which goes on from the leader.
        cluster.brokers[3].send_signal(signal.SIGSTOP)
        try:
            produce(cluster, topic, [b"n%d" % i for i in range(50)])  # waits for the ISR shrink
            _, _, md = cluster.metadata([topic], port=cluster.broker(1).kafka_port)
            assert 3 not in md[topic][1][0][3]
            with RawConnection(cluster.broker(1).kafka_port) as c:
                body = fetch_body([(topic, [(0, 0, -1)])])
                body["rack_id"] = "rack-3"
                part = by_partition(c.call("Fetch", 11, body))[(topic, 0)]
            assert part["preferred_read_replica"] == -1 and part["records"]
        finally:
            cluster.brokers[3].send_signal(signal.SIGCONT)
        assert consume(consumer, 50, timeout=60) == [b"n%d" % i for i in range(50)]
    finally:
        consumer.close()
