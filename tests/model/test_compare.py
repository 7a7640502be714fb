"""What a reviewer sees changed between two versions: words, and rules by tier."""

from __future__ import annotations

from caresheet.model.compare import Piece, compare, diff_words
from caresheet.model.sheet import Sheet, Tier


def test_changed_words_come_as_kept_deleted_and_inserted_runs() -> None:
    assert diff_words("Call us if it gets worse.", "Call us now if it gets much worse.") == (
        Piece("same", "Call us"), Piece("ins", "now"), Piece("same", "if it gets"),
        Piece("ins", "much"), Piece("same", "worse."),
    )
    assert diff_words("a b", "a c") == (Piece("same", "a"), Piece("del", "b"), Piece("ins", "c"))


def test_the_same_sheet_has_no_changes(p586: Sheet) -> None:
    assert compare(p586, p586).empty


def test_rules_added_removed_and_moved_with_a_lowered_tier_flagged(p586: Sheet) -> None:
    rules = list(p586.rules)
    headache = next(i for i, r in enumerate(rules) if r.id == "severe_headache")
    assert rules[headache].tier is Tier.URGENT
    rules[headache] = rules[headache].model_copy(update={"tier": Tier.CONTACT})
    dropped = rules.pop(0)
    after = p586.model_copy(update={"rules": tuple(rules)})
    changes = compare(p586, after)
    kinds = {(r.rule_id, r.kind) for r in changes.rules}
    assert kinds == {("severe_headache", "tier"), (dropped.id, "removed")}
    assert [r.rule_id for r in changes.lowered] == ["severe_headache"]
    raised = compare(after, p586)  # back up again: raised and re-added, nothing lowered
    assert raised.lowered == ()
    assert {(r.rule_id, r.kind) for r in raised.rules} == {
        ("severe_headache", "tier"), (dropped.id, "added")}


def test_a_first_version_is_all_new(p586: Sheet) -> None:
    changes = compare(None, p586)
    assert {r.kind for r in changes.rules} == {"added"}
    assert all(p.op == "ins" for t in changes.texts for p in t.pieces)
    assert changes.texts[0].where == "title"
