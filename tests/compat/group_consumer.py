#!/usr/bin/python3
"""One member of a consumer group, run as its own process by test_groups.py (so that a test can
SIGKILL it). It subscribes to one topic with confluent-kafka (librdkafka) or kafka-python and
prints one JSON object per line on stdout, flushed at once, each with "t" = time.monotonic()
(CLOCK_MONOTONIC: comparable between the processes of one machine):

    {"ev": "started", "pid": ..., "client": ...}
    {"ev": "assigned", "partitions": [0, 3]}         the partitions the group gave it
    {"ev": "revoked", "partitions": [0, 3]}
    {"ev": "msg", "p": 0, "o": 17, "v": "m-000017"}  one per consumed message, before its commit
    {"ev": "commit", "offsets": {"0": 18}}           a synchronous commit the coordinator accepted
    {"ev": "commit_failed", "error": "...", "offsets": {...}}
    {"ev": "error", "code": ..., "name": "...", "str": "..."}   a consumer error event
    {"ev": "closed"}                                 after SIGTERM: commits, leaves the group, exits 0

Commits: with --commit sync (the default) every batch returned by poll is printed and then
committed synchronously with explicit offsets (last printed + 1); whatever is still uncommitted is
committed again when partitions are revoked and on SIGTERM. So the committed offset of a
partition never passes a message that was not printed, and a message printed after the last
"commit" of its partition is the uncommitted tail. --commit auto leaves it to the client's
auto-commit (librdkafka stores offsets as messages are returned) and to close().

    group_consumer.py --client confluent|kafka-python --bootstrap B --group G --topic T
                      [--reset earliest|latest|none] [--session-timeout-ms N]
                      [--heartbeat-interval-ms N] [--max-rate N] [--commit sync|auto]
                      [--instance-id ID]
"""

import argparse
import json
import signal
import sys
import time

stop = False


def emit(ev, **fields):
    fields["ev"] = ev
    fields["t"] = time.monotonic()
    sys.stdout.write(json.dumps(fields, sort_keys=True) + "\n")
    sys.stdout.flush()


def on_sigterm(_sig, _frame):
    global stop
    stop = True


class Pacer:
    """At most `rate` messages per second (0: unlimited), to keep a member busy for a while. Idle
    time earns no credit."""

    def __init__(self, rate):
        self.rate = rate
        self.next = 0.0

    def one(self):
        if not self.rate:
            return
        now = time.monotonic()
        if self.next > now:
            time.sleep(self.next - now)
        else:
            self.next = now
        self.next += 1.0 / self.rate


def value_text(v):
    return None if v is None else v.decode("utf-8", "replace")


def run_confluent(args):
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    reset = {"none": "error"}.get(args.reset, args.reset)
    conf = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "client.id": args.client_id or "group-consumer",
        "auto.offset.reset": reset,
        "session.timeout.ms": args.session_timeout_ms,
        "heartbeat.interval.ms": args.heartbeat_interval_ms,
        "enable.auto.commit": args.commit == "auto",
        "enable.partition.eof": False,
        "socket.timeout.ms": 10000,
    }
    if args.instance_id:
        conf["group.instance.id"] = args.instance_id  # static membership (JoinGroup v5)
    c = Consumer(conf)
    pending = {}  # partition -> next offset, printed but not yet committed

    def commit_pending(partitions=None):
        todo = {p: o for p, o in pending.items() if partitions is None or p in partitions}
        if not todo:
            return
        try:
            result = c.commit(offsets=[TopicPartition(args.topic, p, o) for p, o in todo.items()],
                              asynchronous=False)
        except KafkaException as e:
            emit("commit_failed", error=str(e), offsets={str(p): o for p, o in todo.items()})
            return
        failed = {tp.partition: str(tp.error) for tp in (result or []) if tp.error}
        ok = {p: o for p, o in todo.items() if p not in failed}
        if failed:
            emit("commit_failed", error=json.dumps(failed),
                 offsets={str(p): todo[p] for p in failed})
        if ok:
            emit("commit", offsets={str(p): o for p, o in ok.items()})
            for p, o in ok.items():
                if pending.get(p) == o:
                    del pending[p]

    def on_assign(_consumer, partitions):
        emit("assigned", partitions=sorted(tp.partition for tp in partitions))

    def on_revoke(_consumer, partitions):
        revoked = {tp.partition for tp in partitions}
        if args.commit == "sync":
            commit_pending(revoked)
        for p in revoked:
            pending.pop(p, None)
        emit("revoked", partitions=sorted(revoked))

    c.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke)
    pacer = Pacer(args.max_rate)
    try:
        while not stop:
            msgs = c.consume(num_messages=200 if not args.max_rate else 20, timeout=0.2)
            for m in msgs:
                if m.error():
                    err = m.error()
                    emit("error", code=err.code(), name=err.name(), str=err.str())
                    continue
                pacer.one()
                emit("msg", p=m.partition(), o=m.offset(), v=value_text(m.value()))
                pending[m.partition()] = m.offset() + 1
            if args.commit == "sync":
                commit_pending()
        if args.commit == "sync":
            commit_pending()
    finally:
        c.close()  # auto commit: commits the stored offsets; leaves the group
    emit("closed")


def run_kafka_python(args):
    from kafka import KafkaConsumer, TopicPartition
    from kafka.consumer.subscription_state import ConsumerRebalanceListener
    from kafka.errors import KafkaError
    from kafka.structs import OffsetAndMetadata

    consumer = KafkaConsumer(
        bootstrap_servers=args.bootstrap.split(","),
        group_id=args.group,
        client_id=args.client_id or "group-consumer-kp",
        auto_offset_reset=args.reset,
        enable_auto_commit=args.commit == "auto",
        session_timeout_ms=args.session_timeout_ms,
        heartbeat_interval_ms=args.heartbeat_interval_ms,
    )
    pending = {}

    def commit_pending(partitions=None):
        todo = {p: o for p, o in pending.items() if partitions is None or p in partitions}
        if not todo:
            return
        try:
            consumer.commit({TopicPartition(args.topic, p): OffsetAndMetadata(o, None)
                             for p, o in todo.items()})
        except KafkaError as e:
            emit("commit_failed", error="%s: %s" % (type(e).__name__, e),
                 offsets={str(p): o for p, o in todo.items()})
            return
        emit("commit", offsets={str(p): o for p, o in todo.items()})
        for p, o in todo.items():
            if pending.get(p) == o:
                del pending[p]

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            parts = {tp.partition for tp in revoked}
            if args.commit == "sync":
                commit_pending(parts)
            for p in parts:
                pending.pop(p, None)
            emit("revoked", partitions=sorted(parts))

        def on_partitions_assigned(self, assigned):
            emit("assigned", partitions=sorted(tp.partition for tp in assigned))

    consumer.subscribe(topics=[args.topic], listener=Listener())
    pacer = Pacer(args.max_rate)
    try:
        while not stop:
            try:
                batches = consumer.poll(timeout_ms=200, max_records=200 if not args.max_rate else 20)
            except KafkaError as e:
                emit("error", code=getattr(e, "errno", None), name=type(e).__name__, str=str(e))
                time.sleep(0.2)
                continue
            for tp, records in sorted(batches.items()):
                for r in records:
                    pacer.one()
                    emit("msg", p=r.partition, o=r.offset, v=value_text(r.value))
                    pending[r.partition] = r.offset + 1
            if args.commit == "sync":
                commit_pending()
        if args.commit == "sync":
            commit_pending()
    finally:
        consumer.close()  # autocommit=True when enabled; LeaveGroup
    emit("closed")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", choices=["confluent", "kafka-python"], required=True)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--client-id")
    ap.add_argument("--reset", default="earliest", choices=["earliest", "latest", "none"])
    ap.add_argument("--session-timeout-ms", type=int, default=10000)
    ap.add_argument("--heartbeat-interval-ms", type=int, default=1000)
    ap.add_argument("--max-rate", type=float, default=0, help="messages per second (0: no limit)")
    ap.add_argument("--commit", choices=["sync", "auto"], default="sync")
    ap.add_argument("--instance-id", help="group.instance.id (confluent only): a static member")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)
    emit("started", pid=__import__("os").getpid(), client=args.client)
    if args.client == "confluent":
        run_confluent(args)
    else:
        run_kafka_python(args)


if __name__ == "__main__":
    main()
