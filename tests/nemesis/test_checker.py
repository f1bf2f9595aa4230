"""The queue checker (checker.py) on hand-made runs: each anomaly found where it is, none where
it is not, and the verdict following the configuration's promises."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from checker import Promises, check, main, summary  # noqa: E402


def send(process, value, partition, offset=None, outcome="ok"):
    op = {"op": "send", "process": process, "value": value, "partition": partition,
          "outcome": outcome}
    if offset is not None:
        op["offset"] = offset
    return op


def poll(process, partition, offset, value):
    return {"op": "poll", "process": process, "partition": partition, "offset": offset,
            "value": value}


def final_of(log, hw=None, replicas=(1, 2, 3)):
    """Every replica holds `log` ({partition: [values]}) at offsets 0..n-1."""
    contents = {str(p): [[o, v] for o, v in enumerate(values)] for p, values in log.items()}
    return {"replicas": {str(r): json.loads(json.dumps(contents)) for r in replicas},
            "high_watermarks": {str(p): (hw if hw is not None else len(v)) for p, v in log.items()}}


def clean_run():
    history, log = [], {0: [], 1: []}
    for i in range(10):
        p = i % 2
        value = "p1-%d" % i
        history.append(send("p1", value, p, len(log[p])))
        log[p].append(value)
    for p in (0, 1):
        history.append({"op": "assign", "process": "c1", "partition": p, "offset": 0})
        history += [poll("c1", p, o, v) for o, v in enumerate(log[p])]
    return history, final_of(log)


def test_a_clean_run_has_no_anomaly():
    history, final = clean_run()
    promises = Promises(idempotent=True, consumers_read_all=True)
    report = check(history, final, promises)
    assert all(n == 0 for n in report.counts.values()), report.counts
    assert report.broken(promises) == []
    text = summary(report, promises)
    assert "VERDICT: OK" in text and "sends: {'ok': 10}; polls: 10" in text


def test_a_lost_write_breaks_acks_all_only():
    history, final = clean_run()
    history.append(send("p2", "p2-0", 0, 5))  # acknowledged at 5, not in the log
    report = check(history, final)
    assert report.counts["lost"] == 1
    assert report.examples["lost"][0] == {"partition": 0, "offset": 5, "value": "p2-0",
                                          "process": "p2"}
    assert report.broken(Promises(no_loss=True)) == ["lost"]
    assert report.broken(Promises(no_loss=False)) == []


def test_an_acknowledgement_without_an_offset_is_checked_by_its_value():
    # librdkafka's idempotent producer acknowledges a batch implicitly (offset unknown) when a
    # later batch of the same producer succeeds.
    history, final = clean_run()
    history.append(send("p1", "p1-0", 0))  # in the log
    history.append(send("p2", "p2-9", 1))  # not in the log
    report = check(history, final)
    assert report.counts["lost"] == 1
    assert report.examples["lost"][0]["value"] == "p2-9"
    assert report.counts["inconsistent"] == report.counts["nonmonotonic_send"] == 0


def test_a_record_above_the_high_watermark_is_not_in_the_log():
    history = [send("p1", "a", 0, 0), send("p1", "b", 0, 1)]
    final = final_of({0: ["a", "b"]}, hw=1)
    assert check(history, final).counts["lost"] == 1


def test_duplicates_break_only_an_idempotent_promise():
    history = [send("p1", "a", 0, 0), send("p1", "b", 0, 2)]
    final = final_of({0: ["a", "a", "b"]})  # a retry of "a" written twice
    report = check(history, final)
    assert report.counts["duplicate"] == 1
    assert report.examples["duplicate"][0] == {"partition": 0, "value": "a", "offsets": [0, 1]}
    assert report.broken(Promises()) == []
    assert report.broken(Promises(idempotent=True)) == ["duplicate"]


def test_one_offset_two_values():
    # A consumer read "a" at offset 0, but the log holds "b" there.
    history = [send("p1", "a", 0, 0), send("p2", "b", 0, 1), poll("c1", 0, 0, "a")]
    report = check(history, final_of({0: ["b", "a"]}))
    assert report.counts["inconsistent"] == 2  # offsets 0 and 1 both
    assert report.examples["inconsistent"][0] == {"partition": 0, "offset": 0,
                                                  "values": ["a", "b"]}
    assert "inconsistent" in report.broken(Promises(no_loss=False))


def test_an_acknowledged_write_lost_and_its_offset_reused_is_one_loss():
    # acks=1: "a" acknowledged at 0 by a leader that then lost it; "b" was written at 0 after.
    history = [send("p1", "a", 0, 0), send("p2", "b", 0, 0), poll("c1", 0, 0, "b")]
    report = check(history, final_of({0: ["b"]}))
    assert report.counts["lost"] == 1
    assert report.counts["inconsistent"] == 0
    assert report.broken(Promises(no_loss=False)) == []
    assert report.broken(Promises(no_loss=True)) == ["lost"]


def test_replicas_diverging_below_the_high_watermark():
    final = final_of({0: ["a", "b", "c"]}, hw=2)
    final["replicas"]["3"]["0"][2] = [2, "x"]  # above the high watermark: allowed
    assert check([], final).counts["divergence"] == 0
    final["replicas"]["2"]["0"][1] = [1, "y"]
    report = check([], final)
    assert report.counts["divergence"] == 1
    assert report.examples["divergence"][0]["replicas"] == ["1", "2"]
    assert report.examples["divergence"][0]["records"] == [(1, "b"), (1, "y")]


def test_polls_that_go_back_or_skip_unless_reassigned():
    log = {0: ["a", "b", "c", "d"]}
    history = [poll("c1", 0, 0, "a"), poll("c1", 0, 2, "c"),   # skipped offset 1
               poll("c1", 0, 1, "b"),                           # went back
               {"op": "assign", "process": "c1", "partition": 0, "offset": 0},
               poll("c1", 0, 0, "a"), poll("c1", 0, 3, "d")]    # skipped 1 and 2
    report = check(history, final_of(log))
    assert report.counts["poll_skip"] == 2
    assert report.examples["poll_skip"][1]["skipped"] == [1, 2]
    assert report.counts["nonmonotonic_poll"] == 1
    # A gap the log has (compaction) is not a skip.
    final = final_of(log)
    final["replicas"] = {r: {"0": [[0, "a"], [2, "c"]]} for r in final["replicas"]}
    final["high_watermarks"]["0"] = 3
    assert check([poll("c1", 0, 0, "a"), poll("c1", 0, 2, "c")], final).counts["poll_skip"] == 0


def test_sends_acknowledged_out_of_order():
    history = [send("p1", "a", 0, 1), send("p1", "b", 0, 0), send("p2", "c", 0, 2)]
    report = check(history, final_of({0: ["b", "a", "c"]}))
    assert report.counts["nonmonotonic_send"] == 1
    assert report.broken(Promises()) == []
    assert report.broken(Promises(idempotent=True)) == ["nonmonotonic_send"]


def test_a_failed_send_must_not_be_read_but_an_unknown_one_may():
    history = [send("p1", "a", 0, outcome="fail"), send("p1", "b", 0, outcome="unknown")]
    report = check(history, final_of({0: ["a", "b"]}))
    assert report.counts["read_of_failed"] == 1
    assert report.examples["read_of_failed"][0]["value"] == "a"
    assert report.sends == {"fail": 1, "unknown": 1}


def test_unseen_writes_matter_when_the_consumers_read_everything():
    history = [send("p1", "a", 0, 0), send("p1", "b", 0, 1), poll("c1", 0, 0, "a")]
    report = check(history, final_of({0: ["a", "b"]}))
    assert report.counts["unseen"] == 1
    assert report.broken(Promises()) == []
    assert report.broken(Promises(consumers_read_all=True)) == ["unseen"]


def test_the_command_line(tmp_path, capsys):
    history, final = clean_run()
    h, f = tmp_path / "history.jsonl", tmp_path / "final.json"
    h.write_text("".join(json.dumps(op) + "\n" for op in history))
    f.write_text(json.dumps(final))
    assert main([str(h), str(f), "--idempotent", "--consumers-read-all"]) == 0
    assert "VERDICT: OK" in capsys.readouterr().out
    with open(h, "a") as out:
        out.write(json.dumps(send("p2", "gone", 1, 9)) + "\n")
    assert main([str(h), str(f), "--acks", "1"]) == 0
    assert "allowed" in capsys.readouterr().out
    assert main([str(h), str(f)]) == 1
    assert "VERDICT: FAILED (lost)" in capsys.readouterr().out
    assert main([str(h), str(tmp_path / "missing.json")]) == 2
    # As a program.
    p = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "checker.py"),
                        str(h), str(f)], capture_output=True, text=True)
    assert p.returncode == 1 and "BROKEN PROMISE" in p.stdout
