"""Settings, validated once when loaded: an unknown key or rule id is an error.

Defaults live here; a TOML file (``--config callcoach.toml``) overrides any of them::

    [talk]
    agent_share_band = [0.30, 0.50]

    [rules]
    select = ["EXP", "VIO", "FLG"]      # ids or prefixes; default: all
    ignore = ["PRS001"]
    severity = { INS002 = "minor" }

    [stages]
    bands = [3, 7, 15, 30]

    [scoring.weights]
    compliance = 40

    [crosscall]                       # checks across calls (callcoach run)
    forbidden_start = "21:00"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping, Optional

from .crosscall import CrossCallConfig
from .errors import ConfigError
from .models import SEVERITIES


@dataclass(frozen=True)
class TalkConfig:
    """Talk and listening metrics."""

    agent_share_band: tuple[float, float] = (0.30, 0.50)
    long_silence_s: float = 5.0
    interruption_min_overlap_s: float = 0.5
    backchannel_max_chars: int = 4
    long_monologue_s: float = 45.0
    chars_per_second_estimate: float = 4.5
    gap_estimate_s: float = 0.6
    pause_bridge_s: float = 0.6


@dataclass(frozen=True)
class SentimentConfig:
    """Customer sentiment trend and highlights."""

    trend_threshold: float = 0.12
    most_negative: int = 3
    context_weight: float = 1.0
    cue_confidence: float = 0.8


@dataclass(frozen=True)
class OpeningConfig:
    """Opening-script adherence."""

    first_agent_turns: int = 3
    elements: tuple[str, ...] = (
        "greeting", "self_identify", "organization", "verify_identity", "recording_notice", "purpose",
    )


@dataclass(frozen=True)
class RulesConfig:
    """Which rules run and at what severity."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)

    def enabled(self, rule_id: str) -> bool:
        """Say whether a rule (or coaching check) with this id runs."""
        if self.select and not any(rule_id.startswith(p) for p in self.select):
            return False
        return not any(rule_id.startswith(p) for p in self.ignore)

    def severity_for(self, rule_id: str, default: str) -> str:
        return self.severity.get(rule_id, default)


@dataclass(frozen=True)
class StagesConfig:
    """Escalation stages from days overdue: bands are the first day of each later stage."""

    bands: tuple[int, ...] = (3, 7, 15, 30)
    names: tuple[str, ...] = ("reminder", "early", "mid", "late", "legal")


@dataclass(frozen=True)
class ScoringConfig:
    """How the 0-100 QA score is made: component weights and per-finding deductions."""

    weights: Mapping[str, float] = field(
        default_factory=lambda: {"compliance": 40.0, "opening": 20.0, "listening": 15.0, "conduct": 15.0, "sentiment": 10.0}
    )
    deductions: Mapping[str, float] = field(
        default_factory=lambda: {"info": 0.0, "minor": 10.0, "major": 35.0, "critical": 100.0}
    )


@dataclass(frozen=True)
class Config:
    """All settings."""

    talk: TalkConfig = field(default_factory=TalkConfig)
    sentiment: SentimentConfig = field(default_factory=SentimentConfig)
    opening: OpeningConfig = field(default_factory=OpeningConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    stages: StagesConfig = field(default_factory=StagesConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    crosscall: CrossCallConfig = field(default_factory=CrossCallConfig)
    source: Optional[str] = None


_SECTIONS = {
    "talk": TalkConfig, "sentiment": SentimentConfig, "opening": OpeningConfig,
    "rules": RulesConfig, "stages": StagesConfig, "scoring": ScoringConfig,
}


def load_config(path: Optional[Path] = None) -> Config:
    """Return the default settings, overridden by the TOML file at ``path`` if given."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError("config file not found", path=str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=str(path)) from exc
    return config_from_dict(data, source=str(path))


def config_from_dict(data: Mapping[str, Any], source: str = "<config>") -> Config:
    """Build a validated :class:`Config` from a mapping of sections."""
    cfg = Config(source=source)
    for section, values in data.items():
        if section == "crosscall":
            cfg = replace(cfg, crosscall=CrossCallConfig.from_dict(values, source))
            continue
        cls = _SECTIONS.get(section)
        if cls is None:
            raise ConfigError(f"unknown section [{section}]; expected one of {sorted([*_SECTIONS, 'crosscall'])}", path=source)
        if not isinstance(values, dict):
            raise ConfigError(f"[{section}] must be a table", path=source)
        cfg = replace(cfg, **{section: _section(cls, getattr(cfg, section), values, section, source)})
    _validate(cfg, source)
    return cfg


def _section(cls: type, current: Any, values: Mapping[str, Any], section: str, source: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    updates: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"[{section}] unknown key '{key}'; expected one of {sorted(known)}", path=source)
        default = getattr(current, key)
        if isinstance(default, tuple):
            if not isinstance(value, list):
                raise ConfigError(f"[{section}].{key}: expected a list", path=source)
            value = tuple(value)
        elif isinstance(default, dict) or (hasattr(default, "keys") and not isinstance(default, str)):
            if not isinstance(value, dict):
                raise ConfigError(f"[{section}].{key}: expected a table", path=source)
            value = {**dict(default), **value} if section == "scoring" else dict(value)
        elif isinstance(default, bool) or not isinstance(default, (int, float)):
            pass
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ConfigError(f"[{section}].{key}: expected a number, got {type(value).__name__}", path=source)
        updates[key] = value
    return replace(current, **updates)


def _validate(cfg: Config, source: str) -> None:
    lo, hi = cfg.talk.agent_share_band
    if not 0 <= lo <= hi <= 1:
        raise ConfigError("[talk].agent_share_band must be [low, high] with 0 <= low <= high <= 1", path=source)
    bands = cfg.stages.bands
    if list(bands) != sorted(bands) or len(cfg.stages.names) != len(bands) + 1:
        raise ConfigError("[stages]: bands must ascend and names must have one more entry than bands", path=source)
    for rid, sev in cfg.rules.severity.items():
        if sev not in SEVERITIES:
            raise ConfigError(f"[rules].severity.{rid}: unknown severity {sev!r}; expected one of {SEVERITIES}", path=source)
    for key in cfg.scoring.weights:
        if key not in ("compliance", "opening", "listening", "conduct", "sentiment"):
            raise ConfigError(f"[scoring].weights: unknown component {key!r}", path=source)
    for key in cfg.scoring.deductions:
        if key not in SEVERITIES:
            raise ConfigError(f"[scoring].deductions: unknown severity {key!r}", path=source)
    if not 0.5 <= cfg.sentiment.cue_confidence <= 1:
        raise ConfigError("[sentiment].cue_confidence must be between 0.5 and 1", path=source)
    if cfg.sentiment.context_weight < 0:
        raise ConfigError("[sentiment].context_weight must not be negative", path=source)
    unknown = set(cfg.opening.elements) - set(OpeningConfig().elements)
    if unknown:
        raise ConfigError(f"[opening].elements: unknown element(s) {sorted(unknown)}", path=source)
