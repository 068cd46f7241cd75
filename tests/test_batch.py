"""Batch runs: discovery, idempotency, re-scoring, crash safety and resume, cross-call findings."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callcoach.batch import discover, name_pattern_regex, parse_offset, read_manifest
from callcoach.cli import app
from callcoach.store import open_store

ROOT = Path(__file__).resolve().parent.parent
CALL = ROOT / "tests" / "data" / "calls" / "c01_model_compliant.json"
runner = CliRunner()


def _copies(folder: Path, n: int, *, customer: str | None = None, hour: int = 10) -> list[Path]:
    """Write n distinct transcripts (different call ids, so different content)."""
    base = json.loads(CALL.read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        doc = {**base, "call_id": f"T{i:04d}", "agent_id": f"A{i % 3}",
               "started_at": f"2026-11-0{1 + i % 5}T{hour:02d}:{i % 60:02d}:00+08:00"}
        if customer:
            doc["customer_ref"] = customer
        p = folder / f"T{i:04d}.json"
        p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        out.append(p)
    return out


def test_name_pattern_gives_metadata(tmp_path: Path) -> None:
    f = tmp_path / "A017_20261102_101500_C99.txt"
    f.write_text("坐席：您好\n客户：你好\n", encoding="utf-8")
    items, problems = discover([tmp_path], name_pattern="{agent_id}_{date}_{time}_{call_id}", tz=parse_offset("+08:00"))
    assert problems == []
    assert items[0].metadata == {"agent_id": "A017", "call_id": "C99", "started_at": "2026-11-02T10:15:00+08:00"}
    assert name_pattern_regex("{call_id}").match("anything")


def test_manifest_rows_and_their_problems(tmp_path: Path) -> None:
    _copies(tmp_path / "calls", 2)
    m = tmp_path / "manifest.csv"
    m.write_text("path,agent_id,team,days_overdue\ncalls/T0000.json,A9,west,12\ncalls/missing.json,A9,west,3\n"
                 "calls/T0001.json,A9,west,many\n,A1,x,1\n", encoding="utf-8")
    items, problems = read_manifest(m)
    assert [i.metadata for i in items] == [{"agent_id": "A9", "team": "west", "days_overdue": 12}]
    reasons = " | ".join(f"{w}: {r}" for w, r in problems)
    assert "manifest.csv:3: file not found" in reasons and "manifest.csv:4: days_overdue" in reasons
    assert "manifest.csv:5: row has no path" in reasons
    bad = tmp_path / "bad.csv"
    bad.write_text("file,agent\nx,y\n", encoding="utf-8")
    with pytest.raises(Exception, match="path"):
        read_manifest(bad)


def test_rerun_does_no_work_and_rule_change_rescores_from_stored_transcripts(tmp_path: Path) -> None:
    calls = tmp_path / "in"
    _copies(calls, 3)
    (calls / "dup.json").write_bytes((calls / "T0000.json").read_bytes())
    (calls / "broken.txt").write_text("这一行没有说话人标签\n", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(calls), "--out", str(out), "--no-reports"])
    assert res.exit_code == 2  # the broken file
    assert "3 scored" in res.stderr and "duplicate of" in res.stderr and "broken.txt" in res.stderr
    res = runner.invoke(app, ["run", str(calls), "--out", str(out), "--no-reports"])
    assert "0 scored, 0 re-scored from stored transcripts, 3 unchanged" in res.stderr
    cfg = tmp_path / "cc.toml"
    cfg.write_text("[talk]\nagent_share_band = [0.2, 0.7]\n", encoding="utf-8")
    res = runner.invoke(app, ["run", str(calls), "--out", str(out), "--no-reports", "--config", str(cfg)])
    assert "0 scored, 3 re-scored from stored transcripts, 0 unchanged" in res.stderr
    res = runner.invoke(app, ["run", str(calls), "--out", str(out), "--no-reports", "--config", str(cfg)])
    assert "0 scored, 0 re-scored from stored transcripts, 3 unchanged" in res.stderr
    with sqlite3.connect(out / "callcoach.db") as db:
        assert db.execute("select count(*) from results").fetchone()[0] == 6  # older results kept


def test_killed_run_resumes_with_exactly_the_remaining_calls(tmp_path: Path) -> None:
    calls = tmp_path / "in"
    n = 40
    _copies(calls, n)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "callcoach", "run", str(calls), "--out", str(out), "--no-reports"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = out / "callcoach.db"
    deadline = time.time() + 120
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=5) as con:
                    stored = con.execute("select count(*) from results").fetchone()[0]
            except sqlite3.Error:
                stored = 0
            if stored >= 5:
                break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.skip("the run finished before it could be killed (machine too fast for this test)")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as con:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
        done = con.execute("select count(*) from results").fetchone()[0]
        assert con.execute("select count(*) from calls").fetchone()[0] == done  # no half-written call
    assert 0 < done < n
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-500:]
    assert f"{n - done} scored, 0 re-scored from stored transcripts, {done} unchanged" in res.stderr
    with sqlite3.connect(db) as con:
        assert con.execute("select count(*) from results").fetchone()[0] == n


def test_parallel_workers_store_every_call(tmp_path: Path) -> None:
    calls = tmp_path / "in"
    _copies(calls, 6)
    res = runner.invoke(app, ["run", str(calls), "--out", str(tmp_path / "out"), "--workers", "2", "--no-reports"])
    assert res.exit_code == 0 and "6 scored" in res.stderr


def test_calls_at_night_and_too_often_are_found_across_calls(tmp_path: Path) -> None:
    calls = tmp_path / "in"
    _copies(calls, 5, customer="C-77", hour=23)  # same customer; days 1-5 at 23:xx
    _copies(tmp_path / "in2", 0)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(calls), "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    doc = json.loads((out / "results" / "T0000.json").read_text(encoding="utf-8"))
    assert any(f["rule_id"] == "XCL001" for f in doc["findings"])
    assert "XCL001" in (out / "calls" / "T0000.html").read_text(encoding="utf-8")


def test_export_query_and_review(tmp_path: Path) -> None:
    calls = tmp_path / "in"
    _copies(calls, 3)
    out = tmp_path / "out"
    runner.invoke(app, ["run", str(calls), "--out", str(out), "--no-reports"])
    db = str(out / "callcoach.db")
    res = runner.invoke(app, ["export", "--db", db, "--format", "jsonl"])
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert len(lines) == 3 and {"call_id", "findings", "metrics", "score"} <= set(lines[0])
    res = runner.invoke(app, ["query", "--db", db, "calls", "--agent", "A1", "--format", "json"])
    assert [r["call_id"] for r in json.loads(res.stdout)] == ["T0001"]
    res = runner.invoke(app, ["query", "--db", db, "calls", "--since", "2026-11-02", "--until", "2026-11-03", "--format", "json"])
    assert [r["call_id"] for r in json.loads(res.stdout)] == ["T0001"]
    pq = tmp_path / "calls.parquet"
    assert runner.invoke(app, ["export", "--db", db, "--format", "parquet", "--out", str(pq)]).exit_code == 0
    import pandas as pd

    assert len(pd.read_parquet(pq)) == 3
    res = runner.invoke(app, ["review", "T0002", "--db", db, "--decision", "confirmed", "--reviewer", "qa1"])
    assert res.exit_code == 0
    res = runner.invoke(app, ["query", "--db", db, "reviews", "--format", "json"])
    assert json.loads(res.stdout)[0]["decision"] == "confirmed"
    assert runner.invoke(app, ["export", "--db", str(tmp_path / "nope.db")]).exit_code == 2


def test_dask_local_cluster_scores_and_stores(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed", reason="dask[distributed] not installed (pip install 'callcoach[dask]')")
    calls = tmp_path / "in"
    _copies(calls, 4)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(calls), "--out", str(out), "--executor", "dask", "--workers", "2", "--no-reports"])
    assert res.exit_code == 0, res.stderr
    assert "4 scored" in res.stderr
    res = runner.invoke(app, ["run", str(calls), "--out", str(out), "--executor", "dask", "--no-reports"])
    assert "4 unchanged" in res.stderr


def test_bad_inputs_are_reported_and_the_rest_stored(tmp_path: Path) -> None:
    calls = tmp_path / "in"
    _copies(calls, 2)
    (calls / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(64))
    (calls / "empty.txt").write_text("", encoding="utf-8")
    bare = json.loads(CALL.read_text(encoding="utf-8"))
    for key in ("agent_id", "started_at"):
        bare.pop(key, None)
    bare["call_id"] = "BARE"
    (calls / "bare.json").write_text(json.dumps(bare, ensure_ascii=False), encoding="utf-8")
    m = tmp_path / "manifest.csv"
    m.write_text("path,agent_id\nin/missing.wav,A1\n", encoding="utf-8")
    res = runner.invoke(app, ["run", str(calls), "--manifest", str(m), "--out", str(tmp_path / "out"), "--no-reports"])
    assert res.exit_code == 2
    err = res.stderr
    assert "3 scored" in err
    assert "corrupt.wav" in err and "empty.txt" in err and "manifest.csv:2: file not found" in err
    assert "bare.json: stored without agent_id and started_at" in err


def test_recordings_are_transcribed_once_then_rescored_from_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import shared_dir

    model = shared_dir() / "models" / "faster-whisper-base"
    if not (model / "model.bin").is_file():
        pytest.skip(f"Whisper model not found at {model}")
    pytest.importorskip("faster_whisper", reason="faster-whisper not installed")
    sample = ROOT / "sample_audio" / "sample_05_relative_disclosure.flac"
    m = tmp_path / "manifest.csv"
    m.write_text(f"path,call_id,agent_id,team,started_at,days_overdue\n{sample},S5,A3001,west-2,"
                 "2026-11-11T18:40:00+08:00,27\n", encoding="utf-8")
    monkeypatch.setenv("CALLCOACH_MODEL", str(model))
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", "--manifest", str(m), "--out", str(out), "--no-reports"])
    assert res.exit_code == 0, res.stderr
    assert "1 recording(s) transcribed" in res.stderr
    doc = json.loads((out / "results" / "S5.json").read_text(encoding="utf-8"))
    truth = json.loads((ROOT / "sample_audio" / "sample_05_relative_disclosure.truth.json").read_text(encoding="utf-8"))
    assert doc["agent_id"] == "A3001" and doc["turns"][0]["words"]
    assert doc["metrics"]["opening.disclosure_before_verification"] is True  # found in the recording too
    talk = {"agent": 0.0, "customer": 0.0}
    for t in truth["turns"]:
        talk[t["speaker"]] += t["end_s"] - t["start_s"]
    assert abs(doc["metrics"]["talk.agent_share"] - talk["agent"] / sum(talk.values())) < 0.05
    cfg = tmp_path / "cc.toml"
    cfg.write_text("[opening]\nfirst_agent_turns = 2\n", encoding="utf-8")
    monkeypatch.setenv("CALLCOACH_MODEL", str(tmp_path / "no-such-model"))  # proves nothing is transcribed again
    res = runner.invoke(app, ["run", "--manifest", str(m), "--out", str(out), "--no-reports", "--config", str(cfg)])
    assert res.exit_code == 0, res.stderr
    assert "1 re-scored from stored transcripts" in res.stderr


def test_dial_log_attempts_count_toward_the_daily_attempt_limit(tmp_path: Path) -> None:
    calls = tmp_path / "in"
    _copies(calls, 1, customer="C-88")  # T0000: connected call on 2026-11-01 at 10:00 +08:00
    log = tmp_path / "dialer.csv"
    rows = ["call_id,customer_ref,started_at,agent_id,outcome", "T0000,C-88,2026-11-01T10:00:00+08:00,A0,answered"]
    rows += [f"D{i},C-88,2026-11-01T{11 + i:02d}:00:00+08:00,A0,{'busy' if i % 2 else '未接通'}" for i in range(6)]
    rows += ["D9,C-88,not-a-time,A0,busy", "D10,C-88,2026-11-01T20:00:00+08:00,A0,perhaps"]
    log.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(calls), "--dial-log", str(log), "--out", str(out), "--no-reports"])
    assert res.exit_code == 2  # the two bad rows are reported, the rest is checked
    assert f"{log}:9: started_at" in res.stderr and f"{log}:10: outcome: unknown value 'perhaps'" in res.stderr
    assert "finding(s) across calls" in res.stderr
    with open_store(out / "callcoach.db") as store:
        found = [f["call_id"] for f in store.crosscall_findings() if f["rule_id"] == "XCL003"]
    assert found == ["D5"]  # the seventh attempt that day; T0000 itself is the first
    doc = json.loads((out / "results" / "T0000.json").read_text(encoding="utf-8"))
    assert not any(f["rule_id"] == "XCL003" for f in doc["findings"])


def test_dial_log_without_required_columns_is_a_clear_error(tmp_path: Path) -> None:
    calls = tmp_path / "in"
    _copies(calls, 1)
    log = tmp_path / "dialer.csv"
    log.write_text("id,when\nx,2026-11-01T10:00:00+08:00\n", encoding="utf-8")
    res = runner.invoke(app, ["run", str(calls), "--dial-log", str(log), "--out", str(tmp_path / "o"), "--no-reports"])
    assert res.exit_code != 0
    assert "dialer.csv" in res.stderr and "customer_ref" in res.stderr
