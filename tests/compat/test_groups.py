"""Consumer groups with real clients: confluent-kafka (librdkafka 2.0.2), kafka-python 2.0.2,
kcat 1.7.1 (-G) and KafkaJS 2.2.4 subscribe to RF-3 topics as groups of separate processes
(group_consumer.py / group_consumer.js), commit, rebalance when a member is SIGKILLed or added,
resume from committed offsets, apply auto.offset.reset to a new group, show up in the admin
views (list / describe / offsets / delete), and carry on when their coordinator broker is
SIGKILLed (last: it restarts a broker).

Brokers run with group.initial.rebalance.delay.ms=0 (Kafka's development setting), so a group
forms as soon as its members join. Helpers and the checks: groups.py."""

import os
import subprocess
import time

import pytest
from confluent_kafka.admin import AdminClient
from kafka.errors import GroupIdNotFoundError, NoError, NonEmptyGroupError

from cluster import unique_topic, wait_until
from groups import (KAFKAJS_MODULES, OFFSETS_TOPIC, CommitMonitor, Members, admin,
                    check_exactly_once, check_nothing_committed_is_consumed_again,
                    committed_offsets, consumptions, describe_group, end_offsets,
                    fetch_committed_raw, find_coordinator, offsets_partition, produce_values,
                    terminate_all, wait_balanced, wait_committed_to_end, wait_consumed,
                    wait_group_state)

GREGOR_BROKER_OVERRIDES = {"group.initial.rebalance.delay.ms": "0"}

PARTITIONS = 6
RF = 3


@pytest.fixture
def members(cluster):
    """The group member processes a test starts (conftest.py adds what they printed to a
    failure's report); whatever still runs at the end is SIGKILLed, by PID."""
    ms = Members(cluster)
    yield ms
    ms.cleanup()


def new_topic(cluster, prefix):
    topic = unique_topic(prefix)
    cluster.create_topic(topic, partitions=PARTITIONS, replication_factor=RF)
    return topic


# ---- 1, 2: a group of three shares the partitions; every message once ---------------------------


@pytest.mark.parametrize("client", ["confluent", "kafka-python"])
def test_three_members_share_the_partitions_and_consume_everything_once(cluster, members, client):
    topic = new_topic(cluster, "g3-" + client)
    group = "g3-" + client
    ms = [members.python("%s-%d" % (client, i), client, group, topic) for i in range(3)]
    # Both clients' default (range) assignor: 2 partitions each.
    got = wait_balanced(ms, PARTITIONS, sizes=[2, 2, 2])
    produced = produce_values(cluster, topic, "g3", 3000, PARTITIONS)
    wait_consumed(ms, produced)
    check_exactly_once(ms, produced)
    for m, parts in zip(ms, got):
        assert {e["p"] for e in m.msgs()} == parts, m.describe()
    ends = wait_committed_to_end(cluster, group, topic, PARTITIONS)
    assert ends == {p: 500 for p in range(PARTITIONS)}
    g = describe_group(cluster, group)
    assert (g.state, g.protocol_type, g.protocol, len(g.members)) == (
        "Stable", "consumer", "range", 3), g
    terminate_all(ms)
    wait_group_state(cluster, group, "Empty")
    assert committed_offsets(cluster, group, topic) == ends


# ---- 3: a member SIGKILLed -------------------------------------------------------------------------


def test_killed_member_is_replaced_after_its_session_timeout(cluster, members):
    """session.timeout.ms=6000 (the broker's minimum) and 500 ms heartbeats: the killed member's
    partitions move to the others 5.5-6 s after its last heartbeat, not before; everything
    produced before and after the kill is consumed; the only messages consumed twice are the
    killed member's uncommitted tail."""
    topic = new_topic(cluster, "gkill")
    group = "gkill"
    opts = dict(session_timeout_ms=6000, heartbeat_interval_ms=500, max_rate=400)
    ms = [members.python("kill-%d" % i, "confluent", group, topic, **opts) for i in range(3)]
    wait_balanced(ms, PARTITIONS, sizes=[2, 2, 2])
    before = produce_values(cluster, topic, "before", 1500, PARTITIONS)
    victim, survivors = ms[0], ms[1:]
    victim.wait_for(lambda m: len(m.msgs()) >= 150 and m.events("commit"), 30,
                    "150 messages consumed and a commit")
    victim_parts = victim.assignment()
    assert victim.kill() == -9
    killed_at = time.monotonic()
    victim_consumed = {(e["p"], e["o"]) for e in victim.msgs()}
    victim_committed = {}
    for e in victim.events("commit"):
        for p, off in e["offsets"].items():
            victim_committed[int(p)] = max(victim_committed.get(int(p), 0), off)
    after = produce_values(cluster, topic, "after", 1500, PARTITIONS, start=1500)

    wait_balanced(survivors, PARTITIONS, timeout=40, sizes=[3, 3])
    # When the survivors printed their new assignment.
    taken_over = max(max(e["t"] for e in m.events("assigned")) for m in survivors)
    elapsed = taken_over - killed_at
    assert 5.0 <= elapsed <= 20.0, (
        "the killed member's partitions moved %.1f s after the kill (session timeout 6 s, "
        "heartbeats every 0.5 s)" % elapsed)

    produced = dict(before, **after)
    wait_consumed(ms, produced)
    dups = check_nothing_committed_is_consumed_again(ms)
    # Duplicates: only what the victim consumed and had not committed.
    for (p, o), names in dups.items():
        assert names[0] == victim.name and (p, o) in victim_consumed, (p, o, names)
        assert o >= victim_committed.get(p, 0), (p, o, names, victim_committed)
        assert victim.name not in names[1:], (p, o, names)
    # Nothing else twice, nothing unknown.
    counts = {}
    for _t, _p, _o, v, _n in consumptions(ms):
        counts[v] = counts.get(v, 0) + 1
    assert set(counts) == set(produced)
    assert sum(c - 1 for c in counts.values()) == sum(len(n) - 1 for n in dups.values())
    print("kill: partitions %s moved %.1f s after the kill; %d message(s) of the killed member's "
          "uncommitted tail consumed again" % (sorted(victim_parts), elapsed, len(dups)))
    terminate_all(survivors)
    wait_group_state(cluster, group, "Empty")
    assert committed_offsets(cluster, group, topic) == end_offsets(cluster, topic, PARTITIONS)


# ---- 4: a member added --------------------------------------------------------------------------


def test_added_member_gets_partitions_and_nothing_is_lost(cluster, members):
    topic = new_topic(cluster, "gadd")
    group = "gadd"
    ms = [members.python("add-%d" % i, "confluent", group, topic, max_rate=300)
          for i in range(3)]
    first = wait_balanced(ms, PARTITIONS, sizes=[2, 2, 2])
    before = produce_values(cluster, topic, "before", 1800, PARTITIONS)
    wait_until(lambda: sum(len(m.msgs()) for m in ms) >= 300, 30, "300 messages consumed")
    newcomer = members.python("add-3", "confluent", group, topic, max_rate=300)
    ms.append(newcomer)
    second = wait_balanced(ms, PARTITIONS, timeout=40)
    assert sorted(len(a) for a in second) == [1, 1, 2, 2], second
    assert second[:3] != first, (first, second)
    after = produce_values(cluster, topic, "after", 1200, PARTITIONS, start=1800)
    produced = dict(before, **after)
    wait_consumed(ms, produced)
    assert newcomer.msgs(), newcomer.describe()
    check_nothing_committed_is_consumed_again(ms)
    # The old members committed what they had consumed when their partitions were revoked
    # (the commit in PreparingRebalance is accepted), so nothing was consumed twice.
    check_exactly_once(ms, produced)
    terminate_all(ms)
    wait_committed_to_end(cluster, group, topic, PARTITIONS)


# ---- static membership (KIP-345) ----------------------------------------------------------------


def test_static_member_restarts_without_a_rebalance_and_a_duplicate_is_fenced(cluster, members):
    """librdkafka with group.instance.id (JoinGroup v5): a static member that dies and comes back
    within its session gets its partitions back with no rebalance (the other member is not
    disturbed); a second process with the same instance id fences the first (FENCED_INSTANCE_ID,
    fatal to librdkafka)."""
    topic = new_topic(cluster, "gstatic")
    group = "gstatic"
    opts = dict(session_timeout_ms=20000, heartbeat_interval_ms=500)
    a = members.python("static-a", "confluent", group, topic, instance_id="a", **opts)
    b = members.python("static-b", "confluent", group, topic, instance_id="b", **opts)
    first = wait_balanced([a, b], PARTITIONS, sizes=[3, 3])
    # a may have been alone in a first generation: only what follows the balance counts.
    a_rebalances = len(a.events("revoked")) + len(a.events("assigned"))
    assert b.kill() != 0
    b2 = members.python("static-b2", "confluent", group, topic, instance_id="b", **opts)
    b2.wait_for(lambda m: m.assignment(), 30, "the restarted static member's partitions")
    assert b2.assignment() == first[1], (first, b2.assignment())
    assert describe_group(cluster, group).state == "Stable"
    # The same instance id twice: the older process is fenced.
    b3 = members.python("static-b3", "confluent", group, topic, instance_id="b", **opts)
    b2.wait_for(lambda m: any("FENCED" in e.get("name", "") + e.get("str", "").upper()
                              for e in m.events("error")), 30, "FENCED_INSTANCE_ID for the older b")
    b3.wait_for(lambda m: m.assignment() == first[1], 30, "the newest b's partitions")
    # Through both replacements (seconds of a's heartbeats) a was never asked to rebalance.
    assert len(a.events("revoked")) + len(a.events("assigned")) == a_rebalances, a.describe()
    for m in (a, b2, b3):
        m.kill()


# ---- 5: a restarted group resumes ---------------------------------------------------------------


@pytest.mark.parametrize("client", ["confluent", "kafka-python"])
def test_restarted_group_resumes_from_its_committed_offsets(cluster, members, client):
    """Auto commit this time: close() commits what was consumed. Messages are produced once the
    members hold their partitions, and the restarted group has one member, so that no
    rebalance happens while there is something to consume."""
    topic = new_topic(cluster, "gresume-" + client)
    group = "gresume-" + client
    ms = [members.python("resume-%s-%d" % (client, i), client, group, topic, commit="auto")
          for i in range(2)]
    wait_balanced(ms, PARTITIONS, sizes=[3, 3])
    first = produce_values(cluster, topic, "first", 600, PARTITIONS)
    wait_consumed(ms, first)
    terminate_all(ms)
    check_exactly_once(ms, first)
    wait_group_state(cluster, group, "Empty")
    assert committed_offsets(cluster, group, topic) == {p: 100 for p in range(PARTITIONS)}

    second = produce_values(cluster, topic, "second", 600, PARTITIONS, start=600)
    again = members.python("resume-%s-again" % client, client, group, topic, commit="auto")
    wait_consumed([again], second)
    # Every partition resumed at 100: an older message would have come before the new ones.
    check_exactly_once([again], second)
    again.terminate()
    assert committed_offsets(cluster, group, topic) == {p: 200 for p in range(PARTITIONS)}


# ---- 6: auto.offset.reset for a new group --------------------------------------------------------


def test_auto_offset_reset_earliest_latest_none(cluster, members):
    topic = new_topic(cluster, "greset")
    old = produce_values(cluster, topic, "old", 300, PARTITIONS)

    # earliest: everything.
    e = members.python("reset-earliest", "confluent", "greset-earliest", topic, reset="earliest")
    wait_consumed([e], old)
    e.terminate()
    check_exactly_once([e], old)

    # latest: nothing old; the messages produced after the group's positions were set.
    latest = members.python("reset-latest", "confluent", "greset-latest", topic, reset="latest")
    wait_balanced([latest], PARTITIONS)
    new = {}

    def got_every_partition():
        new.update(produce_values(cluster, topic, "new", PARTITIONS, PARTITIONS,
                                  start=1000 + len(new)))
        return {e["p"] for e in latest.msgs()} == set(range(PARTITIONS))

    wait_until(got_every_partition, 30, "the latest-reset member to consume new messages", 0.3)
    assert {e["v"] for e in latest.msgs()} <= set(new), "latest read old messages"
    assert all(e["o"] >= 50 for e in latest.msgs())
    latest.terminate()

    # none (librdkafka: auto.offset.reset=error; kafka-python: 'none'): an error, no messages.
    for client, expected in (("confluent", "_AUTO_OFFSET_RESET"),
                             ("kafka-python", "NoOffsetForPartitionError")):
        n = members.python("reset-none-" + client, client, "greset-none-" + client, topic,
                           reset="none")
        n.wait_for(lambda m: [x for x in m.events("error") if x["name"] == expected], 30,
                   "a %s error" % expected)
        assert not n.msgs(), n.describe()
        n.terminate()

    # none, but with committed offsets (the earliest group's, 50 everywhere): reads on from
    # them, i.e. the messages produced for the latest group and some more.
    assert committed_offsets(cluster, "greset-earliest", topic) == {p: 50 for p in
                                                                     range(PARTITIONS)}
    more = produce_values(cluster, topic, "more", 60, PARTITIONS, start=2000)
    again = members.python("reset-none-committed", "confluent", "greset-earliest", topic,
                           reset="none")
    wait_consumed([again], more)
    assert not again.events("error"), again.describe()
    check_exactly_once([again], dict(new, **more))
    again.terminate()


# ---- 7: kcat -G ----------------------------------------------------------------------------------


def kcat_group(cluster, group, topic, count, timeout=60):
    """kcat -G (balanced consumer, librdkafka's subscribe with auto commit) until `count`
    messages or -e: every assigned partition at its end. Returns the (partition, offset, value)
    lines and kcat's stderr."""
    argv = ["kcat", "-b", cluster.bootstrap, "-G", group, "-X", "auto.offset.reset=earliest",
            "-f", "%p %o %s\\n", "-e", "-q", topic]
    if count:
        argv[1:1] = ["-c", str(count)]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    assert p.returncode == 0, (p.returncode, p.stderr.decode()[-2000:])
    lines = [l.split(" ", 2) for l in p.stdout.decode().splitlines() if l]
    return [(int(a), int(b), c) for a, b, c in lines], p.stderr.decode()


def test_kcat_balanced_consumer_commits(cluster):
    topic = new_topic(cluster, "gkcat")
    group = "gkcat"
    produced = produce_values(cluster, topic, "k", 600, PARTITIONS)
    got, _ = kcat_group(cluster, group, topic, 600)
    assert sorted(v for _p, _o, v in got) == sorted(produced)
    assert all(produced[v] == (p, o) for p, o, v in got)
    assert committed_offsets(cluster, group, topic) == {p: 100 for p in range(PARTITIONS)}
    # Again with the same group: nothing new; -e ends it once every partition is at its end.
    got, err = kcat_group(cluster, group, topic, 0)
    assert got == [], got[:5]
    more = produce_values(cluster, topic, "k", 60, PARTITIONS, start=600)
    got, _ = kcat_group(cluster, group, topic, 0)
    assert sorted(v for _p, _o, v in got) == sorted(more)
    assert committed_offsets(cluster, group, topic) == {p: 110 for p in range(PARTITIONS)}


# ---- 8: KafkaJS consumer.run -----------------------------------------------------------------------


def test_kafkajs_consumer_run_commits_and_resumes(cluster, members):
    assert os.path.isfile(os.path.join(KAFKAJS_MODULES, "kafkajs", "package.json")), (
        "kafkajs is not installed in %s: run deploy/install-deps.sh (its step `npm install "
        "--no-save --prefix .deps/js kafkajs@2.2.4`)" % KAFKAJS_MODULES)
    topic = new_topic(cluster, "gjs")
    group = "gjs"
    ms = [members.kafkajs("js-%d" % i, group, topic) for i in range(2)]
    # KafkaJS's RoundRobinAssigner: 3 partitions each.
    wait_balanced(ms, PARTITIONS, sizes=[3, 3])
    first = produce_values(cluster, topic, "js", 1200, PARTITIONS)
    wait_consumed(ms, first)
    check_exactly_once(ms, first)
    ends = wait_committed_to_end(cluster, group, topic, PARTITIONS)
    assert ends == {p: 200 for p in range(PARTITIONS)}
    terminate_all(ms)
    wait_group_state(cluster, group, "Empty")

    second = produce_values(cluster, topic, "js", 300, PARTITIONS, start=1200)
    again = members.kafkajs("js-again", group, topic)
    wait_consumed([again], second)
    check_exactly_once([again], second)
    wait_committed_to_end(cluster, group, topic, PARTITIONS)
    again.terminate()


# ---- 9: admin views ------------------------------------------------------------------------------


def test_admin_list_describe_offsets_delete(cluster, members):
    topic = new_topic(cluster, "gadmin")
    group = "gadmin"
    ms = [members.python("admin-%d" % i, "confluent", group, topic) for i in range(3)]
    assigned = wait_balanced(ms, PARTITIONS, sizes=[2, 2, 2])
    produced = produce_values(cluster, topic, "a", 600, PARTITIONS)
    wait_consumed(ms, produced)
    ends = wait_committed_to_end(cluster, group, topic, PARTITIONS)

    # confluent-kafka 1.7.0's legacy list_groups(): ListGroups v0 to every broker, then
    # DescribeGroups v0; the group appears once, from its coordinator.
    ca = AdminClient({"bootstrap.servers": cluster.bootstrap})
    listed = [g for g in ca.list_groups(timeout=10) if g.id == group]
    assert len(listed) == 1, listed
    g = listed[0]
    assert (g.state, g.protocol_type, g.protocol) == ("Stable", "consumer", "range")
    assert sorted(m.client_id for m in g.members) == sorted(m.name for m in ms)
    assert all(m.client_host == "/127.0.0.1" and m.assignment for m in g.members), g.members
    one = ca.list_groups(group, timeout=10)
    assert [x.id for x in one] == [group]

    a = admin(cluster)
    try:
        assert (group, "consumer") in a.list_consumer_groups()
        (d,) = a.describe_consumer_groups([group])
        assert (d.error_code, d.group, d.state, d.protocol_type, d.protocol) == (
            0, group, "Stable", "consumer", "range"), d
        by_client = {m.client_id: m for m in d.members}
        assert sorted(by_client) == sorted(m.name for m in ms)
        for m, parts in zip(ms, assigned):
            info = by_client[m.name]
            assert info.client_host == "/127.0.0.1"
            assert info.member_id.startswith(m.name + "-"), info.member_id
            assert list(info.member_metadata.subscription) == [topic], info.member_metadata
            assert [(t, sorted(ps)) for t, ps in info.member_assignment.assignment] == [
                (topic, sorted(parts))], info.member_assignment
        offsets = a.list_consumer_group_offsets(group)
        assert {tp.partition: om.offset for tp, om in offsets.items()} == ends
        assert {tp.topic for tp in offsets} == {topic}

        # A live group cannot be deleted.
        assert a.delete_consumer_groups([group]) == [(group, NonEmptyGroupError)]
        terminate_all(ms)
        wait_group_state(cluster, group, "Empty")
        (d,) = a.describe_consumer_groups([group])
        assert (d.state, d.members, d.protocol) == ("Empty", [], ""), d
        # Still listed (it holds offsets), with its offsets.
        assert (group, "consumer") in a.list_consumer_groups()
        assert {tp.partition: om.offset
                for tp, om in a.list_consumer_group_offsets(group).items()} == ends

        assert a.delete_consumer_groups([group]) == [(group, NoError)]
        assert group not in [x for x, _ in a.list_consumer_groups()]
        (d,) = a.describe_consumer_groups([group])
        assert (d.state, d.members) == ("Dead", []), d
        assert a.list_consumer_group_offsets(group) == {}
        assert a.delete_consumer_groups([group]) == [(group, GroupIdNotFoundError)]
    finally:
        a.close()

    # A new group of the same name starts over (auto.offset.reset=earliest: everything again).
    again = members.python("admin-again", "confluent", group, topic)
    wait_consumed([again], produced)
    check_exactly_once([again], produced)
    again.terminate()


# ---- 10: the coordinator SIGKILLed ----------------------------------------------------------------


def committed_now(cluster, group, topic, timeout=30):
    return wait_until(lambda: fetch_committed_raw(cluster, group, topic, PARTITIONS), timeout,
                      "an OffsetFetch answer for %s" % group)


def test_coordinator_killed_while_the_group_consumes_and_commits(cluster, members):
    """The broker that coordinates the group (the leader of its __consumer_offsets partition) is
    SIGKILLed while three confluent-kafka members consume and commit. The group carries on with
    the new coordinator; no committed offset ever goes backwards (OffsetFetch sampled all
    along); every message is consumed, and none below an offset already committed for its
    partition (no auto.offset.reset, no stale offsets). The killed broker is restarted and,
    after the controller's rejoin delay (12 s), leads its partitions again: the group moves back
    to it, live, and still loses nothing."""
    # Kafka's placement (reference §5.1 vectors): abs(String.hashCode) % 50.
    assert [offsets_partition(g, 50) for g in ("", "my-group", "test-group", "console-consumer-1",
                                                "polygenelubricants", "grüppe", "\U0001F600")] \
        == [0, 12, 12, 24, 0, 12, 49]
    topic = unique_topic("gfail")
    cluster.create_topic(topic, partitions=PARTITIONS, replication_factor=RF)
    group = "gfail-%s" % topic

    ms = [members.python("fail-%d" % i, "confluent", group, topic, max_rate=250)
          for i in range(3)]
    wait_balanced(ms, PARTITIONS, sizes=[2, 2, 2])

    # The coordinator: the leader of __consumer_offsets partition abs(hashCode(group)) % count,
    # which is also what FindCoordinator says.
    _, _, topics = cluster.metadata([OFFSETS_TOPIC])
    err, parts = topics[OFFSETS_TOPIC]
    assert err == 0 and len(parts) == 50, (err, len(parts))
    partition = offsets_partition(group, len(parts))
    leader = parts[partition][1]
    assert find_coordinator(cluster, group)[:2] == (0, leader)
    node, _ = committed_now(cluster, group, topic)
    assert node == leader

    monitor = CommitMonitor(cluster, group, topic, PARTITIONS).start()
    try:
        before = produce_values(cluster, topic, "before", 3000, PARTITIONS)
        # Kill it once every partition has commits, with much still to consume.
        def every_partition_committed():
            r = fetch_committed_raw(cluster, group, topic, PARTITIONS)
            return r[1] if r and all(o > 0 for o in r[1].values()) else None

        committed_before = wait_until(every_partition_committed, 30,
                                      "a commit on every partition")
        consumed_before = sum(len(m.msgs()) for m in ms)
        assert consumed_before < 2000, "consumed too much before the kill"

        assert cluster.kill_broker(leader) == -9
        killed_at = time.monotonic()
        after = produce_values(cluster, topic, "after", 1500, PARTITIONS, start=3000)
        produced = dict(before, **after)
        wait_consumed(ms, produced, timeout=90)

        # A new coordinator, with everything committed; nothing went backwards meanwhile.
        def committed_to_end():
            r = fetch_committed_raw(cluster, group, topic, PARTITIONS)
            ends = {p: 750 for p in range(PARTITIONS)}
            return r if r and r[1] == ends else None

        new_coordinator, committed_after = wait_until(committed_to_end, 30,
                                                      "the offsets committed to the end")
        assert new_coordinator != leader
        assert all(committed_after[p] >= committed_before[p] for p in range(PARTITIONS))
        g = describe_group(cluster, group)
        assert (g.state, len(g.members)) == ("Stable", 3), g
        for m in ms:
            assert m.running(), m.describe()
        dups = check_nothing_committed_is_consumed_again(ms)
        first_after_kill = min((t for t, _n, _o in monitor.samples if t > killed_at
                                and _n != leader), default=None)
        print("failover: coordinator %d -> %d with %d of 3000 consumed, offsets answered again "
              "%.1f s after the kill; %d message(s) consumed twice; %d unanswered samples" %
              (leader, new_coordinator, consumed_before,
               (first_after_kill or float("nan")) - killed_at, len(dups), monitor.failed))

        # The killed broker comes back and, after the controller's rejoin delay, leads its
        # partitions again, __consumer_offsets-<partition> included: a live coordinator move.
        cluster.start_broker(leader)
        wait_until(lambda: find_coordinator(cluster, group)[:2] == (0, leader), 60,
                   "the restarted broker %d to coordinate %s again" % (leader, group))
        more = produce_values(cluster, topic, "more", 600, PARTITIONS, start=4500)
        produced.update(more)
        wait_consumed(ms, produced, timeout=60)

        def back_and_committed():
            r = fetch_committed_raw(cluster, group, topic, PARTITIONS)
            return r if r and r[0] == leader and r[1] == {p: 850 for p in range(PARTITIONS)} \
                else None

        wait_until(back_and_committed, 30, "the offsets committed to the end on broker %d" % leader)
    finally:
        monitor.stop()
    monitor.check_never_backwards()
    assert leader in monitor.coordinators() and new_coordinator in monitor.coordinators(), \
        monitor.coordinators()
    dups = check_nothing_committed_is_consumed_again(ms)
    print("coordinators seen by OffsetFetch: %s (%d samples, %d unanswered); %d message(s) "
          "consumed twice in all" % (monitor.coordinators(), len(monitor.samples), monitor.failed,
                                     len(dups)))
    consumed = {e["v"] for m in ms for e in m.msgs()}
    assert consumed == set(produced)
    terminate_all(ms)


# ---- every broker restarted: groups come back from __consumer_offsets on disk -------------------


def test_offsets_and_groups_survive_a_restart_of_every_broker(cluster, members):
    """Every broker stopped, then started again: each new coordinator loads its groups from the
    __consumer_offsets log on disk (COORDINATOR_LOAD_IN_PROGRESS meanwhile, never an empty
    answer), and a member of the group resumes where it committed."""
    topic = new_topic(cluster, "grestart")
    group = "grestart"
    m = members.python("restart-1", "confluent", group, topic)
    m.wait_for(lambda x: len(x.assignment()) == PARTITIONS, 30, "all partitions")
    produced = produce_values(cluster, topic, "r", 600, PARTITIONS)
    wait_consumed([m], produced)
    m.terminate()
    wait_committed_to_end(cluster, group, topic, PARTITIONS)
    before = committed_offsets(cluster, group, topic)
    for b in sorted(cluster.brokers):
        cluster.stop_broker(b)
    for b in sorted(cluster.brokers):
        cluster.start_broker(b)

    answers = []

    def committed_again():
        try:
            got = committed_offsets(cluster, group, topic)
        except Exception:  # noqa: BLE001  the coordinator is loading or moving: an error, retried
            return None
        answers.append(got)
        return got

    wait_until(committed_again, 60, "the group's offsets after the restart")
    # Every successful answer was the whole committed state: none from a cache not yet loaded.
    assert answers and all(a == before for a in answers), (before, answers)
    more = produce_values(cluster, topic, "s", 60, PARTITIONS, start=600)
    m2 = members.python("restart-2", "confluent", group, topic)
    wait_consumed([m2], more)
    assert {e["v"] for e in m2.msgs()} == set(more), "resumed exactly after the committed offsets"
    m2.terminate()
