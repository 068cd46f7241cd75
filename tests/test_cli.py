"""Every CLI command through typer's CliRunner, plus ``python -m callcoach``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callcoach.cli import app, main

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_audio" / "transcripts").glob("*.json"))
CALLS = Path(__file__).parent / "data" / "calls"
RESULT_KEYS = {"call_id", "agent_id", "turns", "metrics", "findings", "score", "passed", "provenance"}
FINDING_KEYS = {"rule_id", "category", "severity", "speaker", "turn_index", "start_s", "end_s", "quote", "message", "suggestion"}

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_score_json_has_the_public_fields() -> None:
    res = run("score", str(CALLS / "c02_violence_insult.json"))
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert RESULT_KEYS <= set(doc)
    assert {"speaker", "start_s", "end_s", "text", "sentiment"} <= set(doc["turns"][0])
    assert doc["turns"][0]["sentiment"]["label"] in ("negative", "neutral", "positive")
    assert "talk.agent_share" in doc["metrics"]
    assert "opening.elements.greeting" in doc["metrics"]
    assert doc["findings"] and FINDING_KEYS <= set(doc["findings"][0])
    assert 0 <= doc["score"] <= 100 and doc["passed"] is False
    prov = doc["provenance"]
    assert prov["callcoach"] and prov["scorers"]["prohibited"] and prov["rules"]["sha256"]
    assert prov["models"]["sentiment"]["sha256"]


def test_score_jsonl_one_call_per_line() -> None:
    res = run("score", *map(str, SAMPLES), "--format", "jsonl")
    assert res.exit_code == 0
    lines = res.stdout.strip().splitlines()
    assert len(lines) == len(SAMPLES)
    assert {json.loads(x)["call_id"] for x in lines} == {p.stem for p in SAMPLES}


def test_score_table_and_out_dir(tmp_path: Path) -> None:
    res = run("score", *map(str, SAMPLES), "--format", "table", "--out", str(tmp_path))
    assert res.exit_code == 0
    for p in SAMPLES:
        assert json.loads((tmp_path / f"{p.stem}.json").read_text(encoding="utf-8"))["call_id"] == p.stem
    assert len((tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()) == len(SAMPLES)
    assert "score=" in res.stdout


def test_fail_on_sets_exit_code() -> None:
    compliant = str(CALLS / "c01_model_compliant.json")
    violent = str(CALLS / "c02_violence_insult.json")
    assert run("score", compliant, "--fail-on", "critical").exit_code == 0
    assert run("score", violent, "--fail-on", "critical").exit_code == 1
    res = run("score", compliant, "--fail-on", "fatal")
    assert res.exit_code == 2 and "unknown severity" in res.stderr


def test_bad_file_is_reported_and_others_still_scored(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"call_id": "x", "turns": [{"speaker": "agent", "start_s": 5, "end_s": 2, "text": "秘密内容"}]}', encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    res = run("score", str(bad), str(CALLS / "c01_model_compliant.json"), str(empty), "--format", "jsonl")
    assert res.exit_code == 2
    assert json.loads(res.stdout.strip())["call_id"] == "c01_model_compliant"
    assert "broken.json" in res.stderr and "empty.txt" in res.stderr
    assert "秘密内容" not in res.stderr  # transcripts are personal data


def test_text_transcript_with_metadata_from_command_line(tmp_path: Path) -> None:
    p = tmp_path / "call.txt"
    p.write_text("[00:00-00:04] 坐席：您好，我是华信银行的客服小李，本次通话录音，请问是张先生吗？\n"
                 "[00:04-00:05] 客户：是我。\n"
                 "[00:06-00:10] 坐席：你再不还，我们就通知你单位领导。\n", encoding="utf-8")
    res = run("score", str(p), "--agent-id", "A9", "--days-overdue", "40", "--call-id", "T1")
    doc = json.loads(res.stdout)
    assert (doc["call_id"], doc["agent_id"], doc["days_overdue"]) == ("T1", "A9", 40)
    assert any(f["rule_id"].startswith("EXP") and f["turn_index"] == 2 for f in doc["findings"])


def test_rules_list_show_check() -> None:
    res = run("rules", "list")
    assert res.exit_code == 0 and "EXP001" in res.stdout and "VIO001" in res.stdout
    listed = json.loads(run("rules", "list", "--json").stdout)
    assert {r["category"] for r in listed} >= {"violence", "exposure", "impersonation", "false_legal", "insult", "harassment"}
    show = run("rules", "show", "EXP001")
    assert "Why it matters" in show.stdout and "Must fire" in show.stdout and "第68条" in show.stdout
    assert "EXP001" in run("rules", "check", "我们会通知你的家人和单位。").stdout
    assert "no rule fired" in run("rules", "check", "我们不会通知您的家人。").stdout
    assert "SEN001" in res.stdout and any(r["id"] == "SEN001" and r["category"] == "sentiment" for r in listed)
    cue = run("rules", "show", "SEN001")
    assert cue.exit_code == 0 and "negative" in cue.stdout and "Must fire" in cue.stdout


def test_unknown_rule_is_a_clean_error(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["callcoach", "rules", "show", "NOPE001"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    assert "no rule with id 'NOPE001'" in capsys.readouterr().err


def test_python_dash_m() -> None:
    out = subprocess.run([sys.executable, "-m", "callcoach", "--version"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert out.returncode == 0 and out.stdout.strip()


def test_internal_error_does_not_stop_the_batch_or_leak_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from callcoach.pipeline import Pipeline

    real = Pipeline.score

    def flaky(self, transcript):  # type: ignore[no-untyped-def]
        if transcript.metadata.call_id == "c02_violence_insult":
            raise KeyError("你就是个老赖")  # an exception whose message holds transcript text
        return real(self, transcript)

    monkeypatch.delenv("CALLCOACH_DEBUG", raising=False)
    monkeypatch.setattr(Pipeline, "score", flaky)
    res = run("score", str(CALLS / "c02_violence_insult.json"), str(CALLS / "c01_model_compliant.json"), "--format", "jsonl")
    assert res.exit_code == 2
    assert json.loads(res.stdout.strip())["call_id"] == "c01_model_compliant"
    assert "internal error" in res.stderr and "KeyError" in res.stderr
    assert "老赖" not in res.stderr
