"""Redact personal data that a call reveals: phone numbers, ID-card and bank-card numbers,
e-mail addresses, and digits read out one by one (speech recognisers write 幺三八… as words).

Redaction keeps the shape a reviewer needs ("138****1234" keeps the carrier prefix and the last
four digits, which agents use to confirm a number) without the identifier itself, and keeps the
text's length, so findings' character offsets still point at the right words.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

_CN_DIGITS = "零〇幺一二三四五六七八九两"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 18-digit resident ID (last may be X), possibly with spaces.
    ("id", re.compile(r"(?<![0-9])[1-9]\d{5}\s?(?:18|19|20)\d{2}\s?\d{4}\s?\d{3}[\dXx](?![0-9])")),
    # Bank cards: 16-19 digits, optionally grouped by 4.
    ("card", re.compile(r"(?<![0-9])\d{4}(?:[ -]?\d{4}){2,3}(?:[ -]?\d{1,3})?(?![0-9])")),
    # Mainland mobile numbers, optionally +86 and separators.
    ("phone", re.compile(r"(?<![0-9])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9])")),
    # Landlines with area code.
    ("landline", re.compile(r"(?<![0-9])0\d{2,3}[ -]\d{7,8}(?![0-9])")),
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")),
    # Seven or more digits read out as Chinese numerals (幺三八一二三四…).
    ("spoken", re.compile(f"[{_CN_DIGITS}]{{7,}}")),
)


def _mask(kind: str, s: str) -> str:
    """Mask an identifier in place, keeping its length so character offsets stay valid."""
    if kind == "email":
        local, domain = s.split("@", 1)
        return "*" * len(local) + "@" + domain
    if kind == "spoken":
        return "*" * len(s)
    positions = [i for i, ch in enumerate(s) if ch.isdigit() or ch in "Xx"]
    keep_head, keep_tail = {"phone": (3, 4), "card": (0, 4), "id": (0, 4), "landline": (0, 2)}.get(kind, (0, 0))
    if kind == "phone" and len(positions) > 11:  # +86 prefix: keep the number's own prefix
        positions = positions[len(positions) - 11:]
    hidden = positions[keep_head: len(positions) - keep_tail]
    chars = list(s)
    for i in hidden:
        chars[i] = "*"
    return "".join(chars)


def redact_text(text: str) -> str:
    """Return ``text`` with personal identifiers masked."""
    for kind, pattern in _PATTERNS:
        text = pattern.sub(lambda m: _mask(kind, m.group(0)), text)
    return text


def redact_result(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a JSON result with every transcript text, quote and highlight redacted.

    The customer reference is replaced by a stable short hash so calls to the same customer
    can still be grouped.
    """
    import hashlib

    out = dict(doc)
    out["turns"] = [
        {**t, "text": redact_text(t.get("text", "")),
         **({"words": [{**w, "text": redact_text(w.get("text", ""))} for w in t["words"]]} if t.get("words") else {})}
        for t in doc.get("turns", [])
    ]
    out["findings"] = [{**f, "quote": redact_text(f.get("quote") or "")} for f in doc.get("findings", [])]
    out["highlights"] = {
        k: [{**h, "quote": redact_text(h.get("quote", ""))} for h in v] for k, v in (doc.get("highlights") or {}).items()
    }
    if doc.get("customer_ref"):
        out["customer_ref"] = "C-" + hashlib.sha256(str(doc["customer_ref"]).encode()).hexdigest()[:8]
    out["redacted"] = True
    return out
