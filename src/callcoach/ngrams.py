"""Character n-grams of a text: the features both learned models read, computed once per text."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=512)
def char_ngrams(text: str, n_min: int = 1, n_max: int = 3) -> frozenset[str]:
    """Return the set of character ``n_min``..``n_max``-grams of ``text`` with spaces removed.

    Cached for the last few hundred texts: the sentiment model and the prohibited-language
    detector read the same turn, one after the other.
    """
    t = text.replace(" ", "")
    out = set(t) if n_min <= 1 else set()
    for n in range(max(2, n_min), n_max + 1):
        out.update([t[i : i + n] for i in range(len(t) - n + 1)])
    return frozenset(out)
