"""How close a recognised text is to a reference: the measures the ASR benchmarks and tests share."""

from __future__ import annotations


def edit_distance(a: str, b: str) -> int:
    """Return the Levenshtein distance between two strings (characters inserted, deleted, swapped)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def character_error_rate(hypothesis: str, reference: str) -> float:
    """Return edits per reference character (0 for two empty strings)."""
    return edit_distance(hypothesis, reference) / max(len(reference), 1)
