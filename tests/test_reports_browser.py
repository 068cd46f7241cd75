"""Reports in a real headless browser (Debian's chromium, driven by Playwright).

Pages must load without console errors, show their key elements, and clicking a finding must
seek the recording. A screenshot of each report kind is saved for a person to look at
($CALLCOACH_ARTIFACTS, default test-artifacts/screenshots).
"""

from __future__ import annotations

import os
import shutil
import wave
from pathlib import Path

import pytest

from callcoach.io import read_transcript
from callcoach.pipeline import Pipeline
from callcoach.reports.writer import ReportOptions, write_reports

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_audio" / "transcripts").glob("*.json"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("CALLCOACH_ARTIFACTS", ROOT / "test-artifacts" / "screenshots"))

if CHROMIUM is None:
    pytest.skip("chromium not found (Debian package 'chromium'; .ci/run installs it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[dev]')")


def _silent_wav(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * int(8000 * seconds))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    audio = tmp_path_factory.mktemp("audio")
    pipe = Pipeline()
    docs = [pipe.score(read_transcript(p)).to_dict() for p in SAMPLES]
    for doc in docs:  # a recording for each call, as long as the call
        _silent_wav(audio / f"{doc['call_id']}.wav", max(t["end_s"] for t in doc["turns"]) + 1)
    write_reports(docs, out, ReportOptions(audio_dirs=(audio,)))
    return out


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--disable-quic", "--autoplay-policy=no-user-gesture-required",
        ])
        yield b
        b.close()


def _open(browser, path: Path, width: int = 1200):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, errors


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_call_page_loads_and_finding_seeks_audio(site: Path, browser) -> None:  # type: ignore[no-untyped-def]
    page, errors = _open(browser, site / "calls" / "sample_02_exposure_harassment.html")
    assert page.locator(".turn").count() > 5
    findings = page.locator(".finding[data-start]")
    assert findings.count() >= 1
    assert page.locator("mark").count() >= 1
    page.wait_for_function("document.getElementById('player') && document.getElementById('player').readyState >= 1")
    target = None
    for i in range(findings.count()):
        start = float(findings.nth(i).get_attribute("data-start") or 0)
        if start > 1:
            target = (findings.nth(i), start)
            break
    assert target is not None
    target[0].click()
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {target[1]}) < 0.6")
    _shot(page, "call_review_page")
    assert errors == []


def test_agent_report_loads_on_a_phone(site: Path, browser) -> None:  # type: ignore[no-untyped-def]
    page, errors = _open(browser, site / "agents" / "A2002.html", width=390)
    for sel in ("#strengths", "#priorities", "#comparison"):
        assert page.locator(sel).count() == 1, sel
    assert page.evaluate("document.documentElement.scrollWidth") <= 420  # no sideways scrolling on a phone
    _shot(page, "agent_coaching_report")
    assert errors == []


def test_dashboard_loads_and_sorts(site: Path, browser) -> None:  # type: ignore[no-untyped-def]
    page, errors = _open(browser, site / "dashboard.html")
    assert page.locator("#agents-table").count() == 1
    assert page.locator("#review-queue").count() == 1
    assert page.locator("svg").count() >= 1
    page.locator("#agents-table th").first.click()
    assert page.locator("#agents-table th[aria-sort]").count() == 1
    _shot(page, "manager_dashboard")
    assert errors == []
