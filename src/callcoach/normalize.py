"""Normalise turn text before segmentation and scoring.

Traditional characters become simplified (OpenCC ``t2s``), full-width letters, digits
and ASCII punctuation become half-width (NFKC), runs of whitespace collapse to one
space, and Arabic numerals are kept as they are so amounts and dates stay readable.
Chinese sentence punctuation (，。？！、) is kept: the rule engine splits clauses on it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable

_SPACE = re.compile(r"\s+")
# NFKC turns the full-width comma/question/exclamation/semicolon/colon into ASCII;
# map them back to the Chinese forms so quotes read naturally.
_CJK_PUNCT = str.maketrans({",": "，", "?": "？", "!": "！", ";": "；", ":": "："})
_CJK = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    import opencc

    return opencc.OpenCC("t2s").convert  # type: ignore[no-any-return]


def normalize_text(text: str) -> str:
    """Return ``text`` normalised for scoring (simplified, half-width, tidy spaces)."""
    text = unicodedata.normalize("NFKC", text)
    text = _SPACE.sub(" ", text).strip()
    if _CJK.search(text):
        text = _t2s()(text)
        text = _punct_to_cjk(text)
        # Spaces between Chinese characters are ASR/tokeniser artefacts, not words.
        text = re.sub(r"(?<=[\u4e00-\u9fff，。？！；：、]) (?=[\u4e00-\u9fff，。？！；：、])", "", text)
    return text


_ASCII_PUNCT = re.compile(r"(?<![0-9])[,?!;:]|[,?!;:](?![0-9])")


def _punct_to_cjk(text: str) -> str:
    """Use Chinese punctuation next to Chinese text, leaving numbers like 1,000 or 3.5 alone."""
    return _ASCII_PUNCT.sub(lambda m: m.group(0).translate(_CJK_PUNCT), text)
