"""The queue checker of issue 15: what a history of sends and polls, and the final contents of
every replica, say about a run — Jepsen's queue anomalies (shared/reference/replication-facts.md
§4.2), as pure functions of recorded data (no cluster, no clock).

A history is a list of operations (JSON lines on disk), each a dict:

  {"op": "send", "process": "p1", "value": "p1-17", "partition": 0,
   "outcome": "ok" | "fail" | "unknown", "offset": 42 (ok only; null when the client did not
   learn it), "time": 12.5}
      one produced message and how its delivery ended: "ok" acknowledged at `offset`; "fail" the
      client knows it was not written (librdkafka's NOT_PERSISTED); "unknown" it may have been
      (a timeout, a lost connection: POSSIBLY_PERSISTED). Operations of one process are in the
      order it sent them.
  {"op": "assign", "process": "c1", "partition": 0, "offset": 0, "time": ...}
      a consumer (re)positions on a partition: its next poll there may start anywhere.
  {"op": "poll", "process": "c1", "partition": 0, "offset": 42, "value": "p1-17", "time": ...}
      one record a consumer received, in the order it received them.

The final state is what a reader found after healing, per replica (broker id) and partition:
  {"replicas": {"1": {"0": [[offset, value], ...], ...}, ...},
   "high_watermarks": {"0": 123, ...}}

Anomalies (check() → Report):
  lost            acknowledged, but not in the log of the partition (below its high watermark)
  unseen          acknowledged and in the log, but no consumer polled it (informational: only an
                  anomaly when the consumers were meant to read everything)
  duplicate       one value at two offsets (a retry written twice)
  inconsistent    one offset with two values, across acknowledgements (of values in the log),
                  polls and replicas
  divergence      two replicas differ below the partition's high watermark
  nonmonotonic_poll  a consumer's polls of a partition went back in offset without a re-assign
  poll_skip       a consumer's polls jumped over offsets that hold records, without a re-assign
  nonmonotonic_send  one producer's acknowledged offsets in a partition not in the order it sent
  read_of_failed  a value whose send definitely failed was polled or is in the log (Jepsen's G1a)

Promises (what a configuration guarantees, so what fails a run): acks=all with
min.insync.replicas >= 2 promises no lost, no divergence; every configuration promises no
inconsistent offsets, no nonmonotonic or skipping polls and no read of a failed write; an
idempotent producer also promises no duplicate and no nonmonotonic send.

Run on files:  checker.py HISTORY.jsonl FINAL.json [--acks all|1] [--idempotent]
               [--consumers-read-all]   (exit 1 on a broken promise, 2 on unreadable input)
"""

import argparse
import bisect
import collections
import json
import sys
from dataclasses import dataclass, field

KINDS = ("lost", "unseen", "duplicate", "inconsistent", "divergence", "nonmonotonic_poll",
         "poll_skip", "nonmonotonic_send", "read_of_failed")
EXAMPLES = 5  # per anomaly kind in a report


@dataclass
class Promises:
    no_loss: bool = True        # acks=all with min.insync.replicas >= 2 (and no unclean election)
    idempotent: bool = False    # no duplicates, sends in order
    consumers_read_all: bool = False  # the consumers drained every partition: unseen is an anomaly

    def broken_by(self, kind):
        if kind in ("lost", "divergence"):
            return self.no_loss
        if kind in ("duplicate", "nonmonotonic_send"):
            return self.idempotent
        if kind == "unseen":
            return self.consumers_read_all
        return True  # inconsistent, nonmonotonic_poll, poll_skip, read_of_failed: always


@dataclass
class Report:
    counts: dict = field(default_factory=lambda: {k: 0 for k in KINDS})
    examples: dict = field(default_factory=lambda: {k: [] for k in KINDS})
    sends: collections.Counter = field(default_factory=collections.Counter)  # by outcome
    polls: int = 0
    partitions: dict = field(default_factory=dict)  # partition: (high watermark, records)

    def add(self, kind, example):
        self.counts[kind] += 1
        if len(self.examples[kind]) < EXAMPLES:
            self.examples[kind].append(example)

    def broken(self, promises):
        """The anomaly kinds found that `promises` rule out."""
        return [k for k in KINDS if self.counts[k] and promises.broken_by(k)]


def _key(partition):
    return int(partition)


def reference_log(final, partition):
    """The partition's records below its high watermark, from the replica that has the most of
    them (all replicas should agree there; divergence is reported separately):
    {offset: value}."""
    hw = final["high_watermarks"].get(str(partition), final["high_watermarks"].get(partition))
    best = {}
    for replica in final["replicas"].values():
        records = replica.get(str(partition), replica.get(partition, []))
        below = {int(o): v for o, v in records if hw is None or int(o) < hw}
        if len(below) > len(best):
            best = below
    return best


def check(history, final, promises=None):
    """Analyses a run: `history` (operations, as above) and `final` (replica contents)."""
    promises = promises or Promises()
    report = Report()
    partitions = sorted({_key(p) for r in final["replicas"].values() for p in r} |
                        {_key(p) for p in final["high_watermarks"]})
    logs = {p: reference_log(final, p) for p in partitions}
    for p in partitions:
        hw = final["high_watermarks"].get(str(p), final["high_watermarks"].get(p))
        report.partitions[p] = (hw, len(logs[p]))

    # Replicas below the high watermark.
    for p in partitions:
        hw = report.partitions[p][0]
        views = {}
        for broker, replica in sorted(final["replicas"].items()):
            records = replica.get(str(p), replica.get(p))
            if records is None:
                continue
            views[broker] = [(int(o), v) for o, v in records if hw is None or int(o) < hw]
        brokers = sorted(views)
        for other in brokers[1:]:
            if views[other] != views[brokers[0]]:
                a, b = views[brokers[0]], views[other]
                i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
                report.add("divergence", {"partition": p, "replicas": [brokers[0], other],
                                          "first_difference": i,
                                          "records": [a[i] if i < len(a) else None,
                                                      b[i] if i < len(b) else None]})

    # Where each value is, and what each offset holds, by every observation.
    in_log = collections.defaultdict(list)  # (partition, value): [offsets]
    for p, log in logs.items():
        for o, v in log.items():
            in_log[(p, v)].append(o)
    for (p, v), offsets in sorted(in_log.items()):
        if len(offsets) > 1:
            report.add("duplicate", {"partition": p, "value": v, "offsets": sorted(offsets)})
    seen_at = collections.defaultdict(set)  # (partition, offset): {values}
    for p, log in logs.items():
        for o, v in log.items():
            seen_at[(p, o)].add(v)
    failed, polled = set(), set()
    last_ack = {}  # (process, partition): (offset, value) of the previous acknowledged send
    for op in history:
        kind = op.get("op")
        if kind == "send":
            report.sends[op["outcome"]] += 1
            p, v = _key(op["partition"]), op["value"]
            if op["outcome"] == "fail":
                failed.add((p, v))
            if op["outcome"] != "ok":
                continue
            if op.get("offset") is None:
                # Acknowledged without an offset: librdkafka's idempotent producer acknowledges a
                # batch implicitly when a later one of the same producer succeeds. Lost or not by
                # its value alone.
                if (p, v) not in in_log:
                    report.add("lost", {"partition": p, "offset": None, "value": v,
                                        "process": op.get("process")})
                continue
            o = int(op["offset"])
            # An acknowledged value that is not in the log is lost (below); the offset it was
            # acknowledged at may hold a later write then, which is that loss, not another one.
            if (p, v) in in_log:
                seen_at[(p, o)].add(v)
            if (p, v) not in in_log:
                report.add("lost", {"partition": p, "offset": o, "value": v,
                                    "process": op.get("process")})
            prev = last_ack.get((op.get("process"), p))
            if prev is not None and o <= prev[0]:
                report.add("nonmonotonic_send", {"process": op.get("process"), "partition": p,
                                                 "offsets": [prev[0], o], "values": [prev[1], v]})
            last_ack[(op.get("process"), p)] = (o, v)
        elif kind == "poll":
            report.polls += 1
            p, o, v = _key(op["partition"]), int(op["offset"]), op["value"]
            seen_at[(p, o)].add(v)
            polled.add((p, v))
    for (p, o), values in sorted(seen_at.items()):
        if len(values) > 1:
            report.add("inconsistent", {"partition": p, "offset": o, "values": sorted(values)})
    for (p, v) in sorted(failed):
        if (p, v) in in_log or (p, v) in polled:
            report.add("read_of_failed", {"partition": p, "value": v,
                                          "offsets": sorted(in_log.get((p, v), []))})
    acked = [(_key(op["partition"]), op["value"], op.get("offset")) for op in history
             if op.get("op") == "send" and op["outcome"] == "ok"]
    for p, v, o in acked:
        if (p, v) in in_log and (p, v) not in polled:
            report.add("unseen", {"partition": p, "offset": o, "value": v})

    # Each consumer's polls, partition by partition, between re-assigns.
    sorted_offsets = {p: sorted(log) for p, log in logs.items()}  # for poll_skip, by bisection
    position = {}  # (process, partition): last offset polled since the last assign
    for op in history:
        kind = op.get("op")
        if kind == "assign":
            position.pop((op.get("process"), _key(op["partition"])), None)
        elif kind == "poll":
            key = (op.get("process"), _key(op["partition"]))
            p, o = key[1], int(op["offset"])
            prev = position.get(key)
            if prev is not None:
                if o <= prev:
                    report.add("nonmonotonic_poll", {"process": key[0], "partition": p,
                                                     "offsets": [prev, o]})
                elif o > prev + 1:
                    offsets = sorted_offsets.get(p, [])
                    skipped = offsets[bisect.bisect_right(offsets, prev):bisect.bisect_left(offsets, o)]
                    if skipped:
                        report.add("poll_skip", {"process": key[0], "partition": p,
                                                 "offsets": [prev, o],
                                                 "skipped": skipped[:10]})
            position[key] = o
    return report


def summary(report, promises):
    """One screen: what was done, each anomaly kind with its count (and examples of the ones
    found), and the verdict."""
    lines = ["sends: %s; polls: %d; partitions (high watermark, records): %s" % (
        dict(sorted(report.sends.items())), report.polls,
        {p: hw_n for p, hw_n in sorted(report.partitions.items())})]
    for kind in KINDS:
        n = report.counts[kind]
        mark = "BROKEN PROMISE" if n and promises.broken_by(kind) else ("" if not n else "allowed")
        lines.append("  %-18s %6d  %s" % (kind, n, mark))
        for example in report.examples[kind]:
            lines.append("      %s" % json.dumps(example, sort_keys=True))
    broken = report.broken(promises)
    lines.append("VERDICT: %s" % ("OK" if not broken else "FAILED (%s)" % ", ".join(broken)))
    return "\n".join(lines)


def load_history(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("history", help="operations, one JSON object per line")
    ap.add_argument("final", help="the replicas' contents and high watermarks (JSON)")
    ap.add_argument("--acks", choices=("all", "1"), default="all",
                    help="all: lost writes and divergence break the promise; 1: reported only")
    ap.add_argument("--idempotent", action="store_true",
                    help="the producers were idempotent: duplicates and reordered sends break it")
    ap.add_argument("--consumers-read-all", action="store_true",
                    help="the consumers drained every partition: unseen writes break it")
    args = ap.parse_args(argv)
    try:
        history = load_history(args.history)
        with open(args.final) as f:
            final = json.load(f)
    except (OSError, ValueError) as e:
        print("checker: cannot read the run: %s" % e, file=sys.stderr)
        return 2
    promises = Promises(no_loss=args.acks == "all", idempotent=args.idempotent,
                        consumers_read_all=args.consumers_read_all)
    report = check(history, final, promises)
    print(summary(report, promises))
    return 1 if report.broken(promises) else 0


if __name__ == "__main__":
    sys.exit(main())
