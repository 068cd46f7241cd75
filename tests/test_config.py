"""Settings are validated when loaded: unknown sections, keys, rule ids and severities are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcoach.config import config_from_dict, load_config
from callcoach.errors import ConfigError
from callcoach.pipeline import Pipeline


def test_defaults() -> None:
    cfg = load_config(None)
    assert cfg.talk.agent_share_band == (0.30, 0.50)
    assert cfg.stages.bands == (3, 7, 15, 30)


def test_file_overrides(tmp_path: Path) -> None:
    p = tmp_path / "cc.toml"
    p.write_text('[talk]\nagent_share_band = [0.2, 0.6]\n[rules]\nignore = ["PRS"]\nseverity = { INS002 = "minor" }\n', encoding="utf-8")
    cfg = load_config(p)
    assert cfg.talk.agent_share_band == (0.2, 0.6)
    assert not cfg.rules.enabled("PRS001") and cfg.rules.enabled("EXP001")
    assert cfg.rules.severity_for("INS002", "major") == "minor"


@pytest.mark.parametrize("data,match", [
    ({"talks": {}}, "unknown section"),
    ({"talk": {"agent_share": 0.5}}, "unknown key 'agent_share'"),
    ({"talk": {"long_silence_s": "long"}}, "expected a number"),
    ({"talk": {"agent_share_band": [0.6, 0.4]}}, "agent_share_band"),
    ({"rules": {"severity": {"EXP001": "fatal"}}}, "unknown severity"),
    ({"scoring": {"weights": {"charm": 10}}}, "unknown component"),
])
def test_invalid_settings(data: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        config_from_dict(data, source="cc.toml")


def test_unknown_rule_id_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no rule or check id starts with 'ZZZ'"):
        Pipeline(config_from_dict({"rules": {"ignore": ["ZZZ"]}}))


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
