"""Leader/follower failover with acks=all writers (after Kafka's ducktape replication_test).

Every test starts its own cluster (1 controller + 3 brokers, harness.ReplicationCluster), creates
a topic with 3 partitions, replication factor 3 and min.insync.replicas=2 (AdminClient), and runs
a background confluent-kafka producer (acks=all, linger 2 ms, retries on) writing
sequence-numbered values round-robin at ~400 msg/s and recording every acknowledged (value,
partition, offset). It then breaks something around the leader (or a follower) of partition 0.

At the end of every scenario (Scenario.finish):
  * the producer stops and flushes (everything it sent is acknowledged or failed);
  * every partition has its full ISR again;
  * a plain Consumer (assign from offset 0, no group) reads every partition up to its high
    watermark: every acknowledged message is there at exactly its acknowledged offset (not lost,
    not overwritten), no offset was acknowledged for two different values, consumed offsets only
    go up, nothing unknown was consumed (duplicates from retries are allowed and counted);
  * every broker is stopped cleanly (SIGTERM) and the three replicas' segment files are
    byte-identical below the common high watermark (replication-offset-checkpoint), which must
    cover everything acknowledged.
The longest gap between acknowledgements around each fault is printed (not asserted).

Scenarios (test function test_<name>, CTest entry replication_failover_<name>, label failover;
one cluster each):
  hard_kill_leader_once  SIGKILL the leader of partition 0; once fenced and replaced, restart it;
                         it rejoins the ISR
  hard_bounce_leader_5x  the same five times in a row (Kafka's hard_bounce)
  clean_bounce_leader    SIGTERM (controlled shutdown) of the leader, restart; 3 times
  sigstop_leader         SIGSTOP the leader past the session timeout: fenced, new leader; Produce
                         requests sent to it while stopped / right after SIGCONT must not be
                         acknowledged unless durable; after SIGCONT it is a follower in the ISR
  follower_sigstop_lag   SIGSTOP a follower (session timeout 10 s, replica.lag.time.max.ms 2 s):
                         the leader drops it from the ISR while it is still registered; SIGCONT:
                         it catches up and re-enters the ISR
  follower_kill_restart  SIGKILL a follower, keep writing, restart it: it catches up and
                         re-enters the ISR
  two_of_three_down      SIGKILL one follower and SIGTERM the other: acks=all fails
                         (NOT_ENOUGH_REPLICAS or timeout), nothing is acknowledged and the high
                         watermarks stay put; both come back; nothing acknowledged is lost

Run: cd build && ctest -L failover --output-on-failure   (or, by hand,
GREGOR_BUILD_DIR=$PWD/build /usr/bin/python3 -m pytest -q -s tests/replication/test_failover.py)
"""

import logging
import os
import signal
import sys
import threading
import time

from confluent_kafka import Producer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND,  # noqa: E402
                     NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, BackgroundProducer, ack_gaps,
                     compare_replica_logs, consume_all, high_watermarks, log, raw_produce,
                     verify_delivery)

# tests/compat/cluster.py (on sys.path through harness)
from cluster import LATEST, ClusterError, pipelined, unique_topic  # noqa: E402
from kafka.protocol.metadata import MetadataRequest  # noqa: E402
from kafka.protocol.produce import ProduceRequest  # noqa: E402
from kafka.record.memory_records import MemoryRecordsBuilder  # noqa: E402

PARTITIONS = 3
P0 = 0
RATE = 400  # messages per second, round-robin over the partitions


class Scenario:
    def __init__(self, cluster, name):
        self.c = cluster
        self.name = name
        self.topic = unique_topic("repl-" + name)
        self.events = []  # (label, t_fault, t_recovered)
        self.t0 = time.monotonic()
        self.producer = None

    def begin(self):
        view = self.c.create_replicated_topic(self.topic, PARTITIONS)
        log("%s: topic %s created: %s" % (self.name, self.topic, view))
        self.producer = BackgroundProducer(self.c.bootstrap, self.topic, PARTITIONS,
                                           rate=RATE).start()
        self.producer.wait_acked(300, 30, self.c)
        return view

    def event(self, label, t_fault, t_recovered):
        self.events.append((label, t_fault, t_recovered))

    # ---- waits -------------------------------------------------------------------------------

    def wait_leader_moved(self, victim, fenced=True, timeout=30.0):
        """Every serving broker sees: `victim` not live (if fenced), partition 0 led by another
        live broker, `victim` in no ISR, every partition led by a live broker."""
        def ok(live, parts):
            if fenced and victim in live:
                return False
            leader0 = parts[P0][0]
            return (leader0 not in (-1, victim) and
                    all(leader in live and leader != victim and victim not in isr
                        for leader, _r, isr in parts.values()))
        return self.c.wait_partitions(self.topic, "broker %d fenced and replaced as leader" %
                                      victim, ok, timeout)

    def wait_full_isr(self, timeout=60.0):
        return self.c.wait_full_isr(self.topic, PARTITIONS, timeout)

    # ---- final checks ------------------------------------------------------------------------

    def finish(self, extra_acked=(), extra_sent=()):
        c, topic, producer = self.c, self.topic, self.producer
        producer.wait_acked(200, 60, c)  # still flowing after the last fault
        producer.stop()
        t_stop = time.monotonic()
        self.report(t_stop)  # the measurements, even if a check below fails
        self.wait_full_isr()
        hw = high_watermarks(c.bootstrap, topic, PARTITIONS)
        top = {}
        for _s, p, o, _t in producer.acked:
            top[p] = max(top.get(p, -1), o)
        for v, p, o in extra_acked:
            top[p] = max(top.get(p, -1), o)
        for p, o in top.items():
            assert o < hw[p], "partition %d: acknowledged offset %d >= high watermark %d" % (
                p, o, hw[p])
        consumed = consume_all(c.bootstrap, topic, PARTITIONS, hw)
        summary = verify_delivery(producer, consumed, extra_acked, extra_sent)
        log("%s: delivery OK: %s; high watermarks %s" % (self.name, summary, hw))

        # Replica logs: wait until every broker has checkpointed the final high watermark, stop
        # everything cleanly, compare the segment bytes below it.
        c.wait_for("every broker to checkpoint the high watermarks %s" % hw,
                   lambda: all(c.checkpointed_hw(n, topic, p) == hw[p]
                               for n in c.brokers for p in range(PARTITIONS)), 20)
        codes = c.stop_all_brokers_cleanly()
        assert all(rc == 0 for rc in codes.values()), "clean stop exit codes: %s\n%s" % (
            codes, c.log_tails())
        logs = compare_replica_logs(c, topic, PARTITIONS)
        for p, (common, hws, nbytes) in logs.items():
            assert common == hw[p], "partition %d: checkpointed high watermarks %s after the " \
                "clean stop, consumer saw %d" % (p, hws, hw[p])
        log("%s: replica logs identical below the high watermark: %s" % (
            self.name, {p: "hw %d, %d bytes" % (h, n) for p, (h, _hws, n) in logs.items()}))
        log("%s: whole test %.1fs" % (self.name, time.monotonic() - self.t0))

    def report(self, t_stop):
        """Prints, per fault, the longest gap between acknowledgements on partition 0 and on
        the worst partition (a stall of one partition does not show in the union of all), and
        the produce-to-ack latency percentiles of the whole run."""
        times = {p: self.producer.ack_times(p) for p in range(PARTITIONS)}
        lat = self.producer.latencies()
        pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
        lines = ["%s: %d fault(s); producer ran %.1fs; produce->ack latency p50 %.0f ms, "
                 "p99 %.0f ms, max %.0f ms" %
                 (self.name, len(self.events), t_stop - self.t0, 1000 * pct(0.5),
                  1000 * pct(0.99), 1000 * (lat[-1] if lat else 0))]
        for label, t_fault, t_rec in self.events:
            gaps = {p: ack_gaps(times[p], t_fault, t_rec)[0] for p in range(PARTITIONS)}
            worst = max(gaps, key=gaps.get)
            lines.append("  GAP %-40s longest gap between acks: partition 0 %.3fs, worst "
                         "partition (%d) %.3fs (window %.1fs)" %
                         (label, gaps[P0], worst, gaps[worst], t_rec - t_fault))
        print("\n".join(lines), flush=True)


def followers_of(view, partition=P0):
    leader, replicas, _isr = view[partition]
    return [r for r in replicas if r != leader]


# ---- (a) SIGKILL the leader ------------------------------------------------------------------


def hard_bounce(s, rounds):
    c = s.c
    for i in range(rounds):
        victim = c.leader_of(s.topic, P0)
        t_kill = time.monotonic()
        gone_before = len(c.grep_log("controller", "broker %d is gone" % victim, 1000))
        assert c.kill_broker(victim) == -signal.SIGKILL
        s.wait_leader_moved(victim)
        t_elected = time.monotonic()
        # Fenced because its process is gone (connection closed, ports refusing), not because
        # its session expired.
        assert len(c.grep_log("controller", "broker %d is gone" % victim, 1000)) > gone_before, \
            c.grep_log("controller", "broker %d" % victim)
        # The new leader takes acks=all writes with the two remaining replicas.
        s.producer.wait_acked(100, 30, c, partition=P0)
        t_progress = time.monotonic()
        c.start_broker(victim)
        s.wait_full_isr()
        t_isr = time.monotonic()
        log("%s round %d: killed leader %d; fenced + new leader visible after %.2fs, 100 more "
            "partition-0 acks after %.2fs; restarted, back in the ISR %.2fs after the restart" %
            (s.name, i + 1, victim, t_elected - t_kill, t_progress - t_kill,
             t_isr - t_progress))
        s.event("SIGKILL leader %d (round %d)" % (victim, i + 1), t_kill, t_isr)


def test_hard_kill_leader_once(new_cluster):
    s = Scenario(new_cluster(), "hard_kill_once")
    s.begin()
    hard_bounce(s, 1)
    s.finish()


def test_hard_bounce_leader_5x(new_cluster):
    s = Scenario(new_cluster(), "hard_bounce_5x")
    s.begin()
    hard_bounce(s, 5)
    s.finish()


# ---- (b) SIGTERM the leader (controlled shutdown) --------------------------------------------


def test_clean_bounce_leader(new_cluster):
    c = new_cluster()
    s = Scenario(c, "clean_bounce")
    s.begin()
    for i in range(3):
        victim = c.leader_of(s.topic, P0)
        t_term = time.monotonic()
        rc = c.stop_broker(victim)
        t_exit = time.monotonic()
        assert rc == 0, "broker %d exited with %s after SIGTERM\n%s" % (victim, rc,
                                                                        c.log_tails())
        # Controlled shutdown: the leadership moved before the exit.
        s.wait_leader_moved(victim)
        t_moved = time.monotonic()
        s.producer.wait_acked(100, 30, c, partition=P0)
        c.start_broker(victim)
        s.wait_full_isr()
        t_isr = time.monotonic()
        log("clean_bounce round %d: SIGTERM leader %d: exited after %.2fs, metadata without it "
            "%.2fs; back in the ISR %.2fs after the restart" %
            (i + 1, victim, t_exit - t_term, t_moved - t_term, t_isr - t_moved))
        s.event("SIGTERM leader %d (round %d)" % (victim, i + 1), t_term, t_isr)
    s.finish()


# ---- (c) SIGSTOP the leader past the session timeout -----------------------------------------


def test_sigstop_leader(new_cluster):
    c = new_cluster()
    s = Scenario(c, "sigstop_leader")
    s.begin()
    victim = c.leader_of(s.topic, P0)
    port = c.broker(victim).kafka_port
    t_stop = time.monotonic()
    c.sigstop(victim)
    s.wait_leader_moved(victim)
    t_fenced = time.monotonic()
    log("sigstop_leader: leader %d SIGSTOPped; fenced and replaced after %.2fs" %
        (victim, t_fenced - t_stop))
    # A paused process is not a dead one: fenced by its session timeout, never by the probe.
    assert c.grep_log("controller", "broker %d missed heartbeats" % victim), \
        c.grep_log("controller", "broker %d" % victim)
    assert not c.grep_log("controller", "broker %d is gone" % victim)
    # Its guard closes its client connections once the controller has fenced it.
    c.wait_for("broker %d's hang guard to close its client connections" % victim,
               lambda: c.grep_log(victim, "[hang-guard]"), 10)

    # A Produce (acks=all) to the stopped, fenced ex-leader: it sits in the socket until SIGCONT.
    stale = {}

    def send_while_stopped():
        try:
            stale["while_stopped"] = raw_produce(port, s.topic, P0, [b"stale-while-stopped"],
                                                 timeout_ms=10000, wait=60)
        except Exception as e:  # noqa: BLE001  (reported below)
            stale["while_stopped"] = e

    sender = threading.Thread(target=send_while_stopped, daemon=True)
    sender.start()
    # The new leader appends at the offsets the old one would use next (the backlog of the
    # outage first, then a second's worth of new messages).
    s.producer.wait_acked(400, 30, c, partition=P0)
    t_cont = time.monotonic()
    c.sigcont(victim)
    # And one more right after SIGCONT, racing the metadata it has to catch up on.
    try:
        stale["after_cont"] = raw_produce(port, s.topic, P0, [b"stale-after-cont"],
                                          timeout_ms=10000, wait=60)
    except Exception as e:  # noqa: BLE001
        stale["after_cont"] = e
    sender.join(70)
    assert not sender.is_alive()
    log("sigstop_leader: stopped %.2fs in all; Produce responses from the ex-leader: %s" %
        (t_cont - t_stop, stale))

    # It comes back as a follower and re-enters the ISR.
    view = s.wait_full_isr()
    t_isr = time.monotonic()
    assert view[P0][0] != victim, view
    log("sigstop_leader: broker %d back in every ISR %.2fs after SIGCONT (partition 0 led by %d)"
        % (victim, t_isr - t_cont, view[P0][0]))
    for line in c.grep_log(victim, "%s-%d" % (s.topic, P0)):
        log("sigstop_leader: broker %d log: %s" % (victim, line))
    s.event("SIGSTOP leader %d (%.1fs)" % (victim, t_cont - t_stop), t_stop, t_isr)

    extra_acked = []
    for key, value in (("while_stopped", b"stale-while-stopped"),
                       ("after_cont", b"stale-after-cont")):
        r = stale[key]
        # No answer at all (connection closed, or no response in time) is no acknowledgement.
        if isinstance(r, Exception) and not isinstance(r, (OSError, ClusterError)):
            raise r
        if isinstance(r, tuple):
            err, offset = r
            # An ex-leader must not acknowledge: it is not the leader any more (6), or the write
            # cannot commit (7/19/20). A success would have to be durable (checked below).
            if err == 0:
                extra_acked.append((value, P0, offset))
            else:
                assert err in (NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS,
                               NOT_ENOUGH_REPLICAS_AFTER_APPEND), "%s: error %d" % (key, err)
    s.finish(extra_acked=extra_acked, extra_sent=[b"stale-while-stopped", b"stale-after-cont"])


# ---- (d) a follower leaves the ISR and comes back --------------------------------------------


def test_follower_sigstop_lag(new_cluster):
    # A session timeout well above replica.lag.time.max.ms: the leader's lag check, not the
    # controller's fencing, takes the stopped follower out of the ISR.
    c = new_cluster(session_timeout_ms=10000, lag_ms=2000)
    s = Scenario(c, "follower_sigstop_lag")
    view = s.begin()
    leader = view[P0][0]
    victim = followers_of(view)[0]
    t_stop = time.monotonic()
    c.sigstop(victim)
    shrunk = c.wait_partitions(
        s.topic, "partition 0's ISR without the stopped follower %d" % victim,
        lambda live, parts: victim not in parts[P0][2] and victim in live, timeout=9.0,
        via=[leader])
    t_shrunk = time.monotonic()
    assert t_shrunk - t_stop < 9.0
    log("follower_sigstop_lag: follower %d SIGSTOPped; the leader %d dropped it from the ISR "
        "after %.2fs (still registered, not fenced): %s" % (victim, leader, t_shrunk - t_stop,
                                                            shrunk[P0]))
    s.producer.wait_acked(100, 8, c, partition=P0)  # partition 0 commits with 2 replicas
    t_cont = time.monotonic()
    assert t_cont - t_stop < 9.5, "too slow: the follower would be fenced"
    c.sigcont(victim)
    s.wait_full_isr()
    t_isr = time.monotonic()
    log("follower_sigstop_lag: SIGCONT after %.2fs; back in every ISR %.2fs later" %
        (t_cont - t_stop, t_isr - t_cont))
    s.event("SIGSTOP follower %d (%.1fs)" % (victim, t_cont - t_stop), t_stop, t_isr)
    s.finish()


def test_follower_kill_restart(new_cluster):
    c = new_cluster()
    s = Scenario(c, "follower_kill")
    view = s.begin()
    victim = followers_of(view)[0]
    t_kill = time.monotonic()
    assert c.kill_broker(victim) == -signal.SIGKILL
    s.c.wait_partitions(s.topic, "broker %d fenced and out of every ISR" % victim,
                        lambda live, parts: victim not in live and all(
                            victim not in isr and leader in live
                            for leader, _r, isr in parts.values()))
    t_out = time.monotonic()
    # Enough new data that it has to catch up.
    s.producer.wait_acked(1500, 30, c)
    t_restart = time.monotonic()
    c.start_broker(victim)
    s.wait_full_isr()
    t_isr = time.monotonic()
    log("follower_kill: follower %d killed; out of the ISR after %.2fs; down %.2fs; back in "
        "every ISR %.2fs after the restart" % (victim, t_out - t_kill, t_restart - t_kill,
                                              t_isr - t_restart))
    s.event("SIGKILL follower %d" % victim, t_kill, t_isr)
    s.finish()


# ---- (a') the preferred leader comes back -----------------------------------------------------


def test_preferred_leader_returns_after_the_rejoin_delay(new_cluster):
    """With leader rebalancing on (as in the local cluster): a killed leader that comes back
    leads its preferred partition again once it has been alive for
    leader.imbalance.rejoin.delay.ms (3 s here) — not sooner, so that clients' reconnect backoff
    from its downtime is over — and nothing acknowledged is lost meanwhile."""
    c = new_cluster(controller_overrides={"auto.leader.rebalance.enable": "true",
                                          "leader.imbalance.check.interval.seconds": "300",
                                          "leader.imbalance.rejoin.delay.ms": "3000"})
    s = Scenario(c, "preferred_back")
    view = s.begin()
    victim, replicas, _isr = view[P0]
    assert victim == replicas[0], view  # a new topic is led by its preferred replicas
    assert c.kill_broker(victim) == -signal.SIGKILL
    s.wait_leader_moved(victim)
    s.producer.wait_acked(100, 30, c, partition=P0)
    t_restart = time.monotonic()
    c.start_broker(victim)
    s.wait_full_isr()
    t_isr = time.monotonic()
    c.wait_partitions(s.topic, "broker %d to lead partition 0 again" % victim,
                      lambda live, parts: parts[P0][0] == victim, timeout=30)
    t_back = time.monotonic()
    log("preferred_back: broker %d back in every ISR %.2fs after its restart, leader of partition "
        "0 again %.2fs after it" % (victim, t_isr - t_restart, t_back - t_restart))
    # Not before the delay (the periodic check is 300 s away: the rejoin made it happen).
    assert t_back - t_restart >= 3.0, "leadership came back %.2fs after the restart" % (
        t_back - t_restart)
    s.event("SIGKILL leader %d, preferred leader back" % victim, t_restart, t_back)
    s.finish()


# ---- (d') metadata behind a waiting produce ----------------------------------------------------


def test_metadata_behind_a_waiting_produce_is_answered_fresh(new_cluster):
    """A Metadata request pipelined behind an acks=all Produce that waits (a follower is
    SIGSTOPped, so the high watermark only moves once the controller has fenced it) is answered
    as of its turn: after the Produce's answer, it no longer shows the fenced follower in the
    ISR. (Answered when read, it showed the state of seconds earlier; librdkafka 2.0.2 acts on
    such a stale answer after a failover and can strand a partition on a dead broker.)"""
    c = new_cluster(lag_ms=30000)  # the controller's fence, not an ISR shrink, releases it
    topic = unique_topic("repl-stale-md")
    view = c.create_replicated_topic(topic, 1)
    leader, replicas, _isr = view[0]
    follower = [r for r in replicas if r != leader][0]
    c.sigstop(follower)
    t0 = time.monotonic()
    builder = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
    builder.append(timestamp=None, key=None, value=b"behind", headers=[])
    builder.close()
    requests = [ProduceRequest[3](transactional_id=None, required_acks=-1, timeout=20000,
                                  topics=[(topic, [(0, builder.buffer())])]),
                MetadataRequest[1](topics=[topic])]
    responses, closed = pipelined(c.broker(leader).kafka_port, requests, timeout=30)
    elapsed = time.monotonic() - t0
    c.sigcont(follower)
    assert not closed and len(responses) == 2, responses
    produce, metadata = responses[0][1], responses[1][1]
    ((_t, ((_p, err, offset, _ts),)),) = produce.topics
    assert err == 0 and offset >= 0, produce
    # The Produce waited for the fence (about the 2 s session timeout)...
    assert elapsed >= 1.0, "the produce did not wait (%.2fs)" % elapsed
    # ...and the Metadata answer behind it reflects it.
    brokers = [b[0] for b in metadata.brokers]
    (_err, _name, _internal, partitions), = metadata.topics
    (_perr, _pid, md_leader, _md_replicas, md_isr), = partitions
    log("stale_metadata: produce answered after %.2fs; metadata then: brokers %s, leader %d, "
        "ISR %s" % (elapsed, brokers, md_leader, md_isr))
    assert follower not in md_isr, "metadata behind the produce still shows broker %d in the " \
        "ISR: %s" % (follower, metadata)
    assert follower not in brokers, metadata


# ---- (e) two of three brokers down -----------------------------------------------------------


def test_two_of_three_down(new_cluster):
    c = new_cluster()
    s = Scenario(c, "two_down")
    view = s.begin()
    survivor = view[P0][0]
    v1, v2 = followers_of(view)
    t_fault = time.monotonic()
    assert c.kill_broker(v1) == -signal.SIGKILL
    s.wait_leader_moved(v1)
    rc = c.stop_broker(v2)
    assert rc == 0, "broker %d exited with %s after SIGTERM" % (v2, rc)
    only = c.wait_partitions(
        s.topic, "every partition led by %d with ISR [%d]" % (survivor, survivor),
        lambda live, parts: live == {survivor} and all(
            leader == survivor and isr == [survivor] for leader, _r, isr in parts.values()))
    t_alone = time.monotonic()
    port = c.broker(survivor).kafka_port
    # The high watermarks freeze while the ISR is below min.insync.replicas.
    hw_alone = {p: c.list_offset(s.topic, p, LATEST, port=port) for p in range(PARTITIONS)}
    log("two_down: %d killed, %d stopped; %d alone after %.2fs: %s; high watermarks %s" %
        (v1, v2, survivor, t_alone - t_fault, only, hw_alone))

    # A raw acks=all Produce: refused before the append.
    err, _ = raw_produce(port, s.topic, P0, [b"refused-raw"], timeout_ms=3000)
    assert err in (NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT), err
    # librdkafka with a short message timeout: every message fails.
    reports = []
    p = Producer({"bootstrap.servers": c.bootstrap, "acks": "all", "linger.ms": 2,
                  "message.timeout.ms": 3000, "request.timeout.ms": 2000,
                  "retry.backoff.ms": 100, "logger": logging.getLogger("rdkafka.short")})
    short_values = [b"refused-%d" % i for i in range(30)]
    for i, v in enumerate(short_values):
        p.produce(s.topic, value=v, partition=i % PARTITIONS,
                  on_delivery=lambda e, m: reports.append((m.partition(), e, m.offset())))
    assert p.flush(30) == 0
    del p
    acked_short = [r for r in reports if r[1] is None]
    codes = sorted({r[1].name() for r in reports if r[1] is not None})
    log("two_down: raw Produce error %d; librdkafka (message.timeout.ms 3000): %d of %d failed "
        "(%s)" % (err, len(reports) - len(acked_short), len(short_values), codes))
    assert not acked_short, "acknowledged with 1 in-sync replica: %s" % acked_short
    assert set(codes) <= {"NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
                          "_MSG_TIMED_OUT", "REQUEST_TIMED_OUT", "_TIMED_OUT"}, codes
    # The high watermarks did not move, and the background producer got nothing above them
    # acknowledged while the survivor was alone.
    hw_still = {p: c.list_offset(s.topic, p, LATEST, port=port) for p in range(PARTITIONS)}
    assert hw_still == hw_alone, "high watermarks moved with 1 in-sync replica: %s -> %s" % (
        hw_alone, hw_still)
    t_back = time.monotonic()
    # (Acks from before the ISR shrank may reach the callback a little later: 1 s of slack.
    # They may even be above hw_alone: the survivor took over partitions as a follower whose
    # high watermark trailed the old leader's by one fetch, and it cannot advance now.)
    late = [a for a in list(s.producer.acked) if t_alone + 1.0 < a[3] < t_back]
    assert not late, "acknowledged while 1 replica was in sync, (seq, partition, offset, " \
        "t - t_alone): %s" % [(q, p, o, round(t - t_alone, 3)) for q, p, o, t in late[:5]]

    c.start_broker(v1)
    c.start_broker(v2)
    s.wait_full_isr()
    t_isr = time.monotonic()
    log("two_down: %d and %d restarted after %.2fs alone; full ISR %.2fs later" %
        (v1, v2, t_back - t_alone, t_isr - t_back))
    s.event("2 of 3 down (%.1fs)" % (t_back - t_fault), t_fault, t_isr)
    s.finish(extra_sent=short_values + [b"refused-raw"])
