"""Fault kinds and schedules for nemesis runs (nemesis.py), on a NetnsCluster.

A fault kind is a function (cluster, rng, topic) -> (description, heal) that applies the fault
at once and returns how to undo it. Targets that depend on the cluster's state (the leader of a
partition, the active controller) are resolved when the fault starts, and named in the
description, so a printed schedule says what really happened. A schedule is a list of fault
kinds, each held for a few seconds and healed; SCHEDULES are the short seeded ones CTest runs
(each under 2 minutes), `random_schedule` the long one of tests/bench/nemesis.sh.
"""

import threading
import time

from netns_cluster import BROKERS, CONTROLLERS, NemesisError, log


def _leader(cluster, rng, topic):
    """The leader of a random partition of `topic` (a random broker if none is known)."""
    partition = rng.randrange(3)
    leader = cluster.leader_of(topic, partition)
    return (leader or rng.choice(BROKERS)), partition


def _others(b):
    return [x for x in BROKERS if x != b]


def _hosts(prefix, ids):
    return ",".join("%s%d" % (prefix, i) for i in ids)


def _heal_network(cluster):
    return lambda: cluster.sh("heal")


# ---- network ---------------------------------------------------------------------------------

def partition_leader_followers(cluster, rng, topic):
    """The leader still reaches the controllers and its clients, not its followers: it must not
    acknowledge acks=all writes it cannot replicate (Jepsen's stale-leader hazard)."""
    leader, p = _leader(cluster, rng, topic)
    cluster.sh("partition", "b%d" % leader, _hosts("b", _others(leader)))
    return "leader b%d of %s-%d cut off from its followers" % (leader, topic, p), _heal_network(cluster)


def broker_from_controllers(cluster, rng, topic):
    """A leader cut off from the controllers but not from its followers and clients: fenced,
    its partitions get new leaders, while it may still take requests."""
    leader, p = _leader(cluster, rng, topic)
    cluster.sh("partition", "b%d" % leader, _hosts("c", CONTROLLERS))
    return "leader b%d of %s-%d cut off from the controllers" % (leader, topic, p), _heal_network(cluster)


def isolate_broker(cluster, rng, topic):
    b = rng.choice(BROKERS)
    cluster.sh("partition", "b%d" % b)
    return "b%d isolated from every host" % b, _heal_network(cluster)


def leader_from_client(cluster, rng, topic):
    leader, p = _leader(cluster, rng, topic)
    cluster.sh("partition", "b%d" % leader, "client")
    return "leader b%d of %s-%d unreachable from the clients" % (leader, topic, p), _heal_network(cluster)


def one_way_broker_to_controllers(cluster, rng, topic):
    leader, p = _leader(cluster, rng, topic)
    cluster.sh("partition", "--one-way", "b%d" % leader, _hosts("c", CONTROLLERS))
    return ("packets from leader b%d of %s-%d to the controllers dropped (one way)" %
            (leader, topic, p)), _heal_network(cluster)


def one_way_controllers_to_broker(cluster, rng, topic):
    leader, p = _leader(cluster, rng, topic)
    cluster.sh("partition", "--one-way", _hosts("c", CONTROLLERS), "b%d" % leader)
    return ("packets from the controllers to leader b%d of %s-%d dropped (one way)" %
            (leader, topic, p)), _heal_network(cluster)


def controller_split(cluster, rng, topic):
    """The active controller cut off from the other two: they elect a new one."""
    active = cluster.active_controller() or rng.choice(CONTROLLERS)
    cluster.sh("partition", "c%d" % active, _hosts("c", [c for c in CONTROLLERS if c != active]))
    return "active controller c%d cut off from the quorum" % active, _heal_network(cluster)


def lossy_link(cluster, rng, topic):
    leader, p = _leader(cluster, rng, topic)
    loss = rng.choice((10, 20, 30))
    cluster.sh("slow", "b%d" % leader, "--loss", str(loss))
    return "%d%% packet loss at leader b%d of %s-%d" % (loss, leader, topic, p), _heal_network(cluster)


def slow_link(cluster, rng, topic):
    """A follower behind a thin link (tbf; netem delay where the kernel has it)."""
    leader, p = _leader(cluster, rng, topic)
    follower = rng.choice(_others(leader))
    rate = rng.choice((128, 256, 512))
    cluster.sh("slow", "b%d" % follower, "--rate", str(rate))
    return "b%d limited to %d kbit/s" % (follower, rate), _heal_network(cluster)


def lossy_controller(cluster, rng, topic):
    active = cluster.active_controller() or rng.choice(CONTROLLERS)
    cluster.sh("slow", "c%d" % active, "--loss", "30")
    return "30%% packet loss at the active controller c%d" % active, _heal_network(cluster)


# ---- disks -----------------------------------------------------------------------------------

def _disk_full(cluster, rng, topic, broker, role):
    cluster.sh("disk-fill", "b%d" % broker)

    def heal():
        cluster.sh("disk-free", "b%d" % broker)
        if not cluster.running("broker-%d" % broker):
            cluster.sh("start", "broker-%d" % broker)
    return "the disk of %s b%d full" % (role, broker), heal


def disk_full_leader(cluster, rng, topic):
    """A disk filling mid-append: the broker stops taking writes there, leaderships move, it
    stops; nothing it acknowledged is lost."""
    leader, p = _leader(cluster, rng, topic)
    return _disk_full(cluster, rng, topic, leader, "leader of %s-%d" % (topic, p))


def disk_full_follower(cluster, rng, topic):
    leader, p = _leader(cluster, rng, topic)
    return _disk_full(cluster, rng, topic, rng.choice(_others(leader)),
                      "a follower of %s-%d" % (topic, p))


# ---- processes -------------------------------------------------------------------------------

def _restart(cluster, process):
    def heal():
        if not cluster.running(process):
            cluster.sh("start", process)
    return heal


def pause_leader(cluster, rng, topic):
    leader, p = _leader(cluster, rng, topic)
    cluster.sh("pause", "broker-%d" % leader)
    return ("leader b%d of %s-%d paused (SIGSTOP)" % (leader, topic, p),
            lambda: cluster.sh("resume", "broker-%d" % leader))


def kill_leader(cluster, rng, topic):
    leader, p = _leader(cluster, rng, topic)
    cluster.sh("kill", "broker-%d" % leader)
    return "leader b%d of %s-%d killed (SIGKILL)" % (leader, topic, p), _restart(cluster, "broker-%d" % leader)


def kill_active_controller(cluster, rng, topic):
    active = cluster.active_controller() or rng.choice(CONTROLLERS)
    cluster.sh("kill", "controller-%d" % active)
    return "active controller c%d killed" % active, _restart(cluster, "controller-%d" % active)


def pause_controller(cluster, rng, topic):
    c = rng.choice(CONTROLLERS)
    cluster.sh("pause", "controller-%d" % c)
    return "controller c%d paused" % c, lambda: cluster.sh("resume", "controller-%d" % c)


def isr_shrink_vs_leader_change(cluster, rng, topic):
    """A follower stops (its ISR removal is pending) while the leader dies: the new leader must
    come from the ISR as it was, and take nothing back that was acknowledged."""
    leader, p = _leader(cluster, rng, topic)
    follower = rng.choice(_others(leader))
    cluster.sh("pause", "broker-%d" % follower)
    time.sleep(rng.uniform(1.5, 3.5))  # the schedule: around replica.lag.time.max.ms (3 s)
    cluster.sh("kill", "broker-%d" % leader)

    def heal():
        cluster.sh("resume", "broker-%d" % follower)
        _restart(cluster, "broker-%d" % leader)()
    return ("follower b%d paused, then leader b%d of %s-%d killed" %
            (follower, leader, topic, p)), heal


def controller_deposed_during_shutdown(cluster, rng, topic):
    """A controlled shutdown (leaderships moving away) while the active controller is cut off
    from the quorum: the new controller finishes the moves."""
    leader, p = _leader(cluster, rng, topic)
    active = cluster.active_controller() or rng.choice(CONTROLLERS)
    stopper = threading.Thread(target=cluster.sh, args=("stop", "broker-%d" % leader),
                               kwargs={"check": False, "timeout": 120}, daemon=True)
    stopper.start()
    cluster.sh("partition", "c%d" % active, _hosts("c", [c for c in CONTROLLERS if c != active]))

    def heal():
        cluster.sh("heal")
        stopper.join(120)
        _restart(cluster, "broker-%d" % leader)()
    return ("controlled shutdown of leader b%d of %s-%d while the active controller c%d is cut "
            "off" % (leader, topic, p, active)), heal


# ---- clocks ----------------------------------------------------------------------------------

def clock_jump_leader(cluster, rng, topic):
    leader, p = _leader(cluster, rng, topic)
    jump = rng.choice((-1, 1)) * rng.choice((600, 3600, 86400 * 2))
    cluster.sh("clock", "b%d" % leader, "%+d" % jump)
    return ("the wall clock of leader b%d of %s-%d jumped %+d s" % (leader, topic, p, jump),
            lambda: cluster.sh("clock", "b%d" % leader, "0"))


def clock_jump_controller(cluster, rng, topic):
    active = cluster.active_controller() or rng.choice(CONTROLLERS)
    jump = rng.choice((-1, 1)) * rng.choice((600, 3600))
    cluster.sh("clock", "c%d" % active, "%+d" % jump)
    return ("the wall clock of the active controller c%d jumped %+d s" % (active, jump),
            lambda: cluster.sh("clock", "c%d" % active, "0"))


KINDS = {f.__name__: f for f in (
    partition_leader_followers, broker_from_controllers, isolate_broker, leader_from_client,
    one_way_broker_to_controllers, one_way_controllers_to_broker, controller_split,
    lossy_link, slow_link, lossy_controller,
    disk_full_leader, disk_full_follower,
    pause_leader, kill_leader, kill_active_controller, pause_controller,
    isr_shrink_vs_leader_change, controller_deposed_during_shutdown,
    clock_jump_leader, clock_jump_controller)}

# CTest's schedules: every kind above in one of them, each run under 2 minutes.
SCHEDULES = {
    "partitions": ["partition_leader_followers", "broker_from_controllers", "isolate_broker",
                   "leader_from_client"],
    "quorum": ["one_way_broker_to_controllers", "one_way_controllers_to_broker",
               "controller_split", "controller_deposed_during_shutdown"],
    "links": ["lossy_link", "slow_link", "lossy_controller"],
    "disks": ["disk_full_follower", "disk_full_leader"],
    "processes": ["pause_leader", "kill_leader", "isr_shrink_vs_leader_change",
                  "kill_active_controller", "pause_controller"],
    "clocks": ["clock_jump_leader", "clock_jump_controller", "clock_jump_leader"],
}


def scheduled_kinds(name, rng):
    """The kinds of schedule `name` in a seeded order."""
    if name not in SCHEDULES:
        raise NemesisError("no schedule '%s' (schedules: %s)" % (name, ", ".join(SCHEDULES)))
    kinds = list(SCHEDULES[name])
    rng.shuffle(kinds)
    return kinds


def random_schedule(rng, count):
    return [rng.choice(sorted(KINDS)) for _ in range(count)]


def apply(kind, cluster, rng, topic):
    log("fault: %s ..." % kind)
    description, heal = KINDS[kind](cluster, rng, topic)
    log("fault: %s" % description)
    return description, heal
