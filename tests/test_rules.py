"""The rule pack: every rule's own examples, the matching mechanics, and the utterance corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callcoach.config import Config
from callcoach.errors import RuleError
from callcoach.lexicon import load_rulebook
from callcoach.pipeline import analyze_text
from callcoach.prohibited_model import load_default
from callcoach.scorers.base import ScoringContext
from callcoach.scorers.prohibited import PROHIBITED_CATEGORIES, ProhibitedLanguageScorer

CFG = Config()
BOOK = load_rulebook()
SCORER = ProhibitedLanguageScorer()
CTX = ScoringContext(CFG, BOOK, prohibited_model=load_default())


def fired(text: str, days_overdue: int | None = None, speaker: str = "agent") -> list[str]:
    call = analyze_text(text, CFG, days_overdue=days_overdue, speaker=speaker)
    return [f.rule_id for f in SCORER.score(call, CTX).findings]


def categories(text: str, speaker: str = "agent") -> set[str]:
    call = analyze_text(text, CFG, speaker=speaker)
    return {f.category for f in SCORER.score(call, CTX).findings if f.category in PROHIBITED_CATEGORIES}


FIRE = [(r.id, e.text, e.days_overdue) for r in BOOK.rules for e in r.fire]
PASS = [(r.id, e.text, e.days_overdue) for r in BOOK.rules for e in r.pass_]


def model_verdict(rule_id: str, text: str) -> bool:
    """Say whether the learned detector flags ``text`` under this model rule's category."""
    from callcoach.normalize import normalize_text

    pred = load_default().predict(normalize_text(text))
    return pred.flagged and pred.category == BOOK.get(rule_id).category


@pytest.mark.parametrize("rule_id,text,days", FIRE, ids=[f"{r}-fire-{i}" for i, (r, _, _) in enumerate(FIRE)])
def test_rule_fires_on_its_examples(rule_id: str, text: str, days: int | None) -> None:
    if BOOK.get(rule_id).kind == "model":
        assert model_verdict(rule_id, text)
    else:
        assert rule_id in fired(text, days)


@pytest.mark.parametrize("rule_id,text,days", PASS, ids=[f"{r}-pass-{i}" for i, (r, _, _) in enumerate(PASS)])
def test_rule_does_not_fire_on_its_counter_examples(rule_id: str, text: str, days: int | None) -> None:
    if BOOK.get(rule_id).kind == "model":
        assert not model_verdict(rule_id, text)
    assert rule_id not in fired(text, days)


def test_every_category_has_rules_with_rationale_and_suggestion() -> None:
    cats = {r.category for r in BOOK.rules}
    assert set(PROHIBITED_CATEGORIES) <= cats
    for r in BOOK.rules:
        assert r.rationale and r.suggestion and r.fire and r.pass_, r.id


def test_rule_ids_are_unique_and_stable_format() -> None:
    ids = [r.id for r in BOOK.rules]
    assert len(ids) == len(set(ids))
    assert BOOK.get(ids[0]).id == ids[0]
    with pytest.raises(RuleError):
        BOOK.get("XXX999")


@pytest.mark.parametrize("text", [
    "我们不会给您单位打电话。",
    "您放心，我们绝对不会联系您的家人。",
    "不会有人上门的，您别担心。",
    "逾期不会坐牢，这是民事纠纷。",
    "我们不是法院，是银行信用卡中心。",
])
def test_negated_threats_are_reassurances(text: str) -> None:
    assert categories(text) == set()


@pytest.mark.parametrize("text,category", [
    ("如果你不还，我们就去找你单位领导。", "exposure"),
    ("你不还的话就等着坐牢吧。", "false_legal"),
    ("你没还钱，我们就天天给你打电话。", "harassment"),
])
def test_conditional_threats_still_fire(text: str, category: str) -> None:
    assert category in categories(text)


@pytest.mark.parametrize("text", [
    "逾期会按合同产生罚息和违约金。",
    "逾期记录会如实上报个人征信。",
    "如果长期不还，银行有权依法起诉，并申请法院强制执行。",
    "麻烦您转告他给我们回个电话，谢谢。",
    "马上门口那个网点就可以办理还款。",
])
def test_lawful_firm_statements_do_not_fire(text: str) -> None:
    assert categories(text) == set()


@pytest.mark.parametrize("text", [
    "你们再打电话我就报警了！",
    "滚，骗子，别再打了。",
    "你们这是骚扰，我要去法院告你们。",
    "我告诉你，我老婆什么都不知道，你别去找她。",
])
def test_customer_speech_is_never_a_violation(text: str) -> None:
    assert categories(text, speaker="customer") == set()


def test_word_boundaries_not_substrings() -> None:
    assert "HAR003" not in fired("马上门口就有网点。")
    assert "HAR003" in fired("明天我们就派人上门找你。")


@pytest.mark.parametrize("text", [
    "我们会打电话告诉你同事。",        # 同事 as its own word
    "我们会打电话告诉你们同事你欠钱的事。",  # 你们同事: a different split
    "我们会告诉你的同事们。",          # 同事们
])
def test_matching_does_not_depend_on_jieba_split(text: str) -> None:
    assert "exposure" in categories(text)


@pytest.mark.parametrize("text,category", [
    ("我们会告诉你同时你欠钱的事。", "exposure"),   # 同事 -> 同时
    ("我们是发院的工作人员。", "impersonation"),     # 法院 -> 发院
])
def test_homophone_errors_from_speech_recognition(text: str, category: str) -> None:
    assert category in categories(text)


def test_stage_rule_depends_on_days_overdue() -> None:
    text = "再不还我们就起诉你。"
    assert "PRS001" in fired(text, days_overdue=3)
    assert "PRS001" not in fired(text, days_overdue=95)
    assert "PRS001" not in fired(text, days_overdue=None)


def _corpus(name: str) -> list[dict]:
    path = Path(__file__).parent / "data" / "utterances" / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("name,min_recall,max_fpr", [
    ("dev", 0.95, 0.03), ("holdout", 0.90, 0.05), ("holdout2", 0.90, 0.05), ("holdout3", 0.90, 0.05)])
def test_utterance_corpus_recall_and_false_positives(name: str, min_recall: float, max_fpr: float) -> None:
    """dev is used to write rules and train the detector; holdout, holdout2 and holdout3 are
    never trained on (see the model card for how each was used; holdout3's writer saw neither
    the rules nor the detector)."""
    rows = _corpus(name)
    viol = [r for r in rows if r["expected"] != "lawful" and r["speaker"] == "agent"]
    lawful = [r for r in rows if r not in viol]
    recall = sum(bool(categories(r["text"])) for r in viol) / len(viol)
    fpr = sum(bool(categories(r["text"], r["speaker"])) for r in lawful) / len(lawful)
    assert recall >= min_recall, f"{name}: recall {recall:.3f}"
    assert fpr <= max_fpr, f"{name}: false-positive rate {fpr:.3f}"


def test_bad_rule_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "terms.toml").write_text('[negation]\nterms=["不会"]\n[negation_reversal]\nterms=["就"]\n[post_negation]\nterms=["假的"]\n', encoding="utf-8")
    (tmp_path / "rules" / "bad.toml").write_text(
        '[[rule]]\nid="EXP901"\nname="x"\ncategory="exposure"\nseverity="critical"\nmessage="m"\n'
        'rationale="r"\nsuggestion="s"\npatterns=["{nosuchset}"]\nexamples.fire=["a"]\n', encoding="utf-8")
    with pytest.raises(RuleError, match=r"bad\.toml.*unknown term set \{nosuchset\}"):
        load_rulebook(tmp_path)
    (tmp_path / "rules" / "bad.toml").write_text('[[rule]]\nid="EXP901"\ncolour="red"\n', encoding="utf-8")
    with pytest.raises(RuleError, match="unknown key"):
        load_rulebook.__wrapped__(tmp_path)


def _in_call(text: str, days: int | None, speaker: str) -> list[str]:
    """Fire ``text`` as the middle turn of a call whose neighbours end and start with 你, unpunctuated."""
    from callcoach.models import CallMetadata, Transcript, Turn
    from callcoach.pipeline import analyze

    meta = CallMetadata(call_id="ctx", agent_id="a1", days_overdue=days)
    turns = (Turn(speaker=speaker, text="这个情况我跟你说一下你"), Turn(speaker=speaker, text=text),
             Turn(speaker=speaker, text="你看你"), Turn(speaker="customer", text="嗯"))
    call = analyze(Transcript(meta, turns), CFG)  # type: ignore[arg-type]
    return [f.rule_id for f in SCORER.score(call, CTX).findings if f.turn_index == 1]


PATTERN_FIRE = [(r.id, e.text, e.days_overdue, r.speaker) for r in BOOK.rules if r.kind == "pattern" for e in r.fire]


@pytest.mark.parametrize("rule_id,text,days,speaker", PATTERN_FIRE,
                         ids=[f"{r}-in-call-{i}" for i, (r, _, _, _) in enumerate(PATTERN_FIRE)])
def test_rule_fires_on_its_examples_inside_a_call(rule_id: str, text: str, days: int | None, speaker: str) -> None:
    # A turn's neighbours must not change what is found in it (anchors, lookarounds).
    assert rule_id in _in_call(text, days, "agent" if speaker == "any" else speaker)
