"""The nemesis workload: producers writing unique values and consumers reading them back, every
operation recorded with its outcome and time, as the checker (checker.py) reads it.

Runs on the client host of a netns cluster (deploy/netns/cluster.sh exec client ...), so the
faults between the client and the brokers are real:

  workload.py --bootstrap HOST:PORT,... --out DIR --stop-file PATH
              [--topic NAME:PRODUCERS:ACKS:IDEMPOTENT]... [--rate N] [--partitions N]

Each --topic gets PRODUCERS producer processes (p1, p2, ...; one librdkafka producer each, with
acks=all|1 and enable.idempotence) writing values "<topic>/<process>-<seq>" round-robin over
the partitions at --rate messages per second each, and one consumer (c1) assigned every
partition from offset 0. When the stop file appears: the producers stop sending and flush
(every send then has an outcome: ok at an offset, or unknown), the consumers read up to the
partitions' high watermarks, and each topic's history is written to DIR/history-<topic>.jsonl.
A summary goes to stdout as JSON on the last line.
"""

import argparse
import json
import os
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

EPOCH = [time.time()]  # operation times are seconds since this (--epoch: the runner's)


def now():
    return round(time.time() - EPOCH[0], 3)


class History:
    """One topic's operations, appended from several threads."""

    def __init__(self):
        self.ops = []
        self.lock = threading.Lock()

    def add(self, op):
        op["time"] = now()
        with self.lock:
            self.ops.append(op)


class ProducerProcess(threading.Thread):
    def __init__(self, bootstrap, topic, name, acks, idempotent, partitions, rate, history,
                 stop):
        super().__init__(name="%s/%s" % (topic, name), daemon=True)
        self.topic, self.process, self.partitions, self.rate = topic, name, partitions, rate
        self.history, self.stop = history, stop
        self.sent = 0
        self.errors = {}
        conf = {
            "bootstrap.servers": bootstrap,
            "acks": acks,
            "enable.idempotence": idempotent,
            "linger.ms": 5,
            # Longer than any fault of a schedule: a send ends as unknown only when the cluster
            # could not take it for this long.
            "message.timeout.ms": 60000,
            "request.timeout.ms": 10000,
            "client.id": "nemesis-%s-%s" % (topic, name),
        }
        if not idempotent:
            conf["max.in.flight.requests.per.connection"] = 5
        self.producer = Producer(conf)

    def _delivered(self, value, partition):
        def report(err, msg):
            if err is None:
                self.history.add({"op": "send", "process": self.process, "value": value,
                                  "partition": partition, "outcome": "ok",
                                  "offset": msg.offset()})
            else:
                # Whether a failed send was written is unknown to the client (a timeout, a lost
                # connection, a retry of a batch that was appended): never "fail".
                self.errors[err.name()] = self.errors.get(err.name(), 0) + 1
                self.history.add({"op": "send", "process": self.process, "value": value,
                                  "partition": partition, "outcome": "unknown",
                                  "error": err.name()})
        return report

    def run(self):
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self.stop.is_set():
            partition = self.sent % self.partitions
            value = "%s/%s-%d" % (self.topic, self.process, self.sent)
            try:
                self.producer.produce(self.topic, value=value.encode(), partition=partition,
                                      on_delivery=self._delivered(value, partition))
                self.sent += 1
            except BufferError:
                pass  # the local queue is full (a long fault): try again at the next tick
            self.producer.poll(0)
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
            else:
                next_at = time.monotonic()
        remaining = self.producer.flush(90)
        if remaining:
            print("%s: %d messages still undelivered after the flush" % (self.name, remaining),
                  file=sys.stderr, flush=True)


class ConsumerProcess(threading.Thread):
    def __init__(self, bootstrap, topic, partitions, history):
        super().__init__(name="%s/c1" % topic, daemon=True)
        self.topic, self.partitions, self.history = topic, partitions, history
        self.process = "c1"
        self.positions = {p: 0 for p in range(partitions)}  # next offset to read
        self.targets = None  # {partition: high watermark} once the producers are done
        self.done = threading.Event()
        self.errors = {}
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap,
            "group.id": "nemesis-%s" % topic,  # assign() only: the group is not used
            "enable.auto.commit": False,
            "auto.offset.reset": "error",  # an offset reset would hide a lost record: report it
            "fetch.wait.max.ms": 100,
            "client.id": "nemesis-%s-c1" % topic,
        })

    def assign_from(self, partition, offset):
        self.history.add({"op": "assign", "process": self.process, "partition": partition,
                          "offset": offset})

    def run(self):
        tps = [TopicPartition(self.topic, p, 0) for p in range(self.partitions)]
        for p in range(self.partitions):
            self.assign_from(p, 0)
        self.consumer.assign(tps)
        while not self.done.is_set():
            msg = self.consumer.poll(0.2)
            if msg is not None:
                if msg.error():
                    self.errors[msg.error().name()] = self.errors.get(msg.error().name(), 0) + 1
                    if msg.error().code() == KafkaError._AUTO_OFFSET_RESET:
                        # The partition no longer holds our position (the log went back below
                        # what we read): re-read it from its start, as a fresh consumer would.
                        p = msg.partition()
                        self.assign_from(p, 0)
                        self.positions[p] = 0
                        self.consumer.assign([TopicPartition(self.topic, q, self.positions[q])
                                              for q in range(self.partitions)])
                else:
                    self.history.add({"op": "poll", "process": self.process,
                                      "partition": msg.partition(), "offset": msg.offset(),
                                      "value": msg.value().decode()})
                    self.positions[msg.partition()] = msg.offset() + 1
            if self.targets is not None and all(
                    self.positions[p] >= hw for p, hw in self.targets.items()):
                break
        self.consumer.close()

    def high_watermarks(self, bootstrap, timeout=60.0):
        """{partition: high watermark}, asked of the leaders (retried while leadership moves:
        librdkafka answers NOT_LEADER_FOR_PARTITION once from stale metadata)."""
        probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "nemesis-probe"})
        deadline = time.monotonic() + timeout
        out = {}
        try:
            for p in range(self.partitions):
                while True:
                    try:
                        out[p] = probe.get_watermark_offsets(TopicPartition(self.topic, p),
                                                             timeout=10, cached=False)[1]
                        break
                    except KafkaException:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.5)
        finally:
            probe.close()
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stop-file", required=True)
    ap.add_argument("--topic", action="append", required=True,
                    help="NAME:PRODUCERS:ACKS:IDEMPOTENT, e.g. queue:2:all:1 or plain:1:1:0")
    ap.add_argument("--rate", type=float, default=100.0, help="messages/s per producer")
    ap.add_argument("--partitions", type=int, default=3)
    ap.add_argument("--drain-timeout", type=float, default=90.0)
    ap.add_argument("--epoch", type=float, default=None,
                    help="Unix time that operation times count from (default: now)")
    args = ap.parse_args()
    if args.epoch is not None:
        EPOCH[0] = args.epoch

    stop = threading.Event()
    topics = {}
    for spec in args.topic:
        name, count, acks, idempotent = spec.split(":")
        history = History()
        producers = [ProducerProcess(args.bootstrap, name, "p%d" % (i + 1), acks,
                                     idempotent == "1", args.partitions, args.rate, history, stop)
                     for i in range(int(count))]
        consumer = ConsumerProcess(args.bootstrap, name, args.partitions, history)
        topics[name] = (history, producers, consumer)
    for _h, producers, consumer in topics.values():
        consumer.start()
        for p in producers:
            p.start()
    print("workload running: %s" % ", ".join(args.topic), flush=True)

    while not os.path.exists(args.stop_file):
        time.sleep(0.1)
    stop.set()
    for _h, producers, _c in topics.values():
        for p in producers:
            p.join()
    print("producers flushed at %.1fs" % now(), flush=True)
    for _h, _p, consumer in topics.values():
        consumer.targets = consumer.high_watermarks(args.bootstrap)
    deadline = time.monotonic() + args.drain_timeout
    for _h, _p, consumer in topics.values():
        consumer.join(max(0.0, deadline - time.monotonic()))
        if consumer.is_alive():
            print("%s: still short of the high watermarks %s at %s after %.0fs" % (
                consumer.name, consumer.targets, consumer.positions, args.drain_timeout),
                file=sys.stderr, flush=True)
            consumer.done.set()
            consumer.join(30)

    summary = {}
    for name, (history, producers, consumer) in topics.items():
        with open(os.path.join(args.out, "history-%s.jsonl" % name), "w") as f:
            for op in history.ops:
                f.write(json.dumps(op) + "\n")
        summary[name] = {
            "sent": sum(p.sent for p in producers),
            "producer_errors": {k: sum(p.errors.get(k, 0) for p in producers)
                                for k in sorted({k for p in producers for k in p.errors})},
            "consumer_errors": consumer.errors,
            "high_watermarks": consumer.targets,
            "positions": consumer.positions,
        }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
