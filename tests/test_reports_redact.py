"""Redaction masks identifiers in place (offsets survive) and reaches every text a report shows."""

from __future__ import annotations

import pytest

from callcoach.reports.redact import redact_result, redact_text


@pytest.mark.parametrize("text,hidden,kept", [
    ("我的手机是13812345678", "1234", "138****5678"),
    ("打+86 139-8765-4321找我", "8765", "-4321"),
    ("卡号6222 0212 3456 7890 123", "0212", "123"),
    ("身份证110101199003074518", "19900307", "4518"),
    ("邮箱zhang.wei@example.com", "zhang.wei", "@example.com"),
    ("号码是幺三八一二三四五六七八", "幺三八一二三四五六七八", ""),
    ("座机010-62345678", "623456", "78"),
])
def test_identifiers_are_masked(text: str, hidden: str, kept: str) -> None:
    out = redact_text(text)
    assert hidden not in out and kept in out
    assert len(out) == len(text)  # finding offsets stay valid


@pytest.mark.parametrize("text", ["本期应还 3,500.50 元", "逾期45天", "2026年11月25日前还款", "工号3021"])
def test_amounts_dates_and_staff_numbers_stay(text: str) -> None:
    assert redact_text(text) == text


def test_redact_result_covers_turns_quotes_highlights_and_customer_ref() -> None:
    doc = {
        "call_id": "x", "customer_ref": "C0001",
        "turns": [{"index": 0, "speaker": "customer", "text": "我电话13812345678",
                   "words": [{"text": "13812345678", "start_s": 0, "end_s": 1}]}],
        "findings": [{"rule_id": "EXP001", "quote": "打13812345678"}],
        "highlights": {"customer_most_negative": [{"turn_index": 0, "quote": "13812345678"}]},
    }
    out = redact_result(doc)
    assert "13812345678" not in str(out)
    assert out["customer_ref"] != "C0001" and out["customer_ref"] == redact_result(doc)["customer_ref"]
    assert out["redacted"] is True and doc["turns"][0]["text"].endswith("5678")
