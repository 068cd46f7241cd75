"""What decides a score, as one short hash: only results with equal versions are compared."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping, Optional


def scoring_version(provenance: Optional[Mapping[str, Any]]) -> str:
    """Return a short stable hash of what decides a score.

    It covers the callcoach and scorer versions, the rules' hash, the models' hashes and the
    effective configuration's hash; training details and the config file's name do not count.
    """
    prov = provenance or {}
    models = prov.get("models") or {}
    config = prov.get("config")
    key = {
        "callcoach": prov.get("callcoach"),
        "scorers": dict(sorted((prov.get("scorers") or {}).items())),
        "rules": (prov.get("rules") or {}).get("sha256"),
        "models": {name: (m or {}).get("sha256") for name, m in sorted(models.items()) if isinstance(m, Mapping)},
        "config": config.get("sha256") if isinstance(config, Mapping) else None,
    }
    blob = json.dumps(key, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:10]
