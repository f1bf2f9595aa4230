"""What a stopped broker's log dir holds, read from its files: every record of a partition
(segment files in base-offset order) and the checkpointed high watermark. Used for the final
state the checker (checker.py) compares: {offset, value} per replica."""

import os

from kafka.record.memory_records import MemoryRecords


def segment_bytes(partition_dir):
    """The partition's segments (*.log, in base-offset order), concatenated."""
    names = sorted(n for n in os.listdir(partition_dir) if n.endswith(".log"))
    data = b""
    for n in names:
        with open(os.path.join(partition_dir, n), "rb") as f:
            data += f.read()
    return data


def partition_records(partition_dir):
    """[[offset, value as text], ...] of every record in the partition's segments."""
    records = MemoryRecords(segment_bytes(partition_dir))
    rows = []
    while True:
        batch = records.next_batch()
        if batch is None:
            return rows
        rows += [[r.offset, r.value.decode()] for r in batch]


def checkpointed_hw(log_dir, topic, partition):
    """The high watermark in the log dir's replication-offset-checkpoint, or None."""
    try:
        with open(os.path.join(log_dir, "replication-offset-checkpoint")) as f:
            lines = f.read().split("\n")
    except OSError:
        return None
    for line in lines[2:]:
        fields = line.split()
        if len(fields) == 3 and fields[0] == topic and int(fields[1]) == partition:
            return int(fields[2])
    return None
