"""``callcoach run`` and ``callcoach report`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from callcoach.cli import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_audio" / "transcripts"
runner = CliRunner()


def test_run_scores_and_writes_every_report(tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", str(SAMPLES), "--out", str(tmp_path)], catch_exceptions=False)
    assert res.exit_code == 0, res.stderr
    calls = sorted(p.stem for p in (tmp_path / "calls").glob("*.html"))
    assert calls == sorted(p.stem for p in SAMPLES.glob("*.json"))
    agents = {json.loads(p.read_text(encoding="utf-8"))["agent_id"] for p in (tmp_path / "results").glob("*.json")}
    for agent in agents:
        assert (tmp_path / "agents" / f"{agent}.html").is_file()
        assert (tmp_path / "agents" / f"{agent}.md").is_file()
    assert (tmp_path / "dashboard.html").is_file() and (tmp_path / "dashboard.csv").is_file()
    assert (tmp_path / "index.html").is_file()


def test_report_from_stored_results_redacts_by_default(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    doc = json.loads(runner.invoke(app, ["score", str(SAMPLES / "sample_01_compliant_plan.json")]).stdout)
    doc["turns"][1]["text"] = "我的手机号是13812345678"
    (results / "one.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    (results / "broken.json").write_text("{not json", encoding="utf-8")
    out = tmp_path / "site"
    res = runner.invoke(app, ["report", str(results), "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 2 and "broken.json" in res.stderr  # reported, the rest written
    page = (out / "calls" / f"{doc['call_id']}.html").read_text(encoding="utf-8")
    assert "13812345678" not in page and "138****5678" in page
    res = runner.invoke(app, ["report", str(results / "one.json"), "--out", str(out), "--no-redact", "--lang", "en"])
    assert res.exit_code == 0
    page = (out / "calls" / f"{doc['call_id']}.html").read_text(encoding="utf-8")
    assert "13812345678" in page


def test_report_option_errors(tmp_path: Path) -> None:
    res = runner.invoke(app, ["report", str(tmp_path), "--lang", "fr"])
    assert res.exit_code == 2 and "--lang" in res.stderr
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "no scored results" in res.stderr
