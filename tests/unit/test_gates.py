from dataclasses import replace

import pytest

from bot.domain.coaching import label
from bot.domain.gates import Direction, Kind, Missing, UnknownStage, check_gate, check_new, missing_for_next
from bot.domain.playbook import EntryCriteria, Item, Playbook, Text, marker_key
from tests.unit.factories import bant, deal, mini_playbook

PB = mini_playbook()


def test_next_stage_lists_exactly_the_unmet_exit_criteria():
    result = check_gate(deal("a"), "b", PB)
    assert result.direction is Direction.FORWARD
    assert not result.open
    assert result.missing == (Missing("a", Kind.CHARACTERISTIC, "fit"), Missing("a", Kind.BANT, "need"))


def test_gate_opens_once_criteria_are_met():
    d = deal("a", characteristics=frozenset({"fit"}), bant=bant("need"))
    assert check_gate(d, "b", PB).open


def test_blank_bant_answer_does_not_count():
    d = deal("a", characteristics=frozenset({"fit"}), bant=bant("need", answer="   "))
    assert check_gate(d, "b", PB).missing == (Missing("a", Kind.BANT, "need"),)


def test_skipping_stages_collects_every_skipped_stage_once_under_the_first_that_asks():
    result = check_gate(deal("a"), "d", PB)
    assert [(m.stage, m.kind, m.key) for m in result.missing] == [
        ("a", Kind.CHARACTERISTIC, "fit"),
        ("a", Kind.BANT, "need"),  # also asked by b: listed once
        ("b", Kind.BANT, "budget"),
        ("b", Kind.ROLE, "economic_buyer"),
        ("b", Kind.EVALUATION, "real"),
        ("c", Kind.CHARACTERISTIC, "signed_off"),
        ("c", Kind.ROLE, "coach"),
    ]
    assert result.of_kind(Kind.ROLE) == (Missing("b", Kind.ROLE, "economic_buyer"), Missing("c", Kind.ROLE, "coach"))


def test_evaluation_passes_at_its_pass_mark():
    three = {f"r{i}": True for i in range(3)}
    four = {**three, "r3": True, "r4": False}
    base = dict(bant=bant("need", "budget"), roles={"economic_buyer": ("Ann",)})
    assert Missing("b", Kind.EVALUATION, "real") in check_gate(deal("b", evaluations={"real": three}, **base), "c", PB).missing
    assert check_gate(deal("b", evaluations={"real": four}, **base), "c", PB).open


def test_role_with_only_blank_names_is_missing():
    d = deal("c", characteristics=frozenset({"signed_off"}), roles={"coach": ("  ",)})
    assert check_gate(d, "d", PB).missing == (Missing("c", Kind.ROLE, "coach"),)


@pytest.mark.parametrize(
    ("frm", "to", "direction", "needs_reason"),
    [("c", "a", Direction.BACKWARD, True), ("b", "lost", Direction.LOST, True), ("lost", "b", Direction.REOPEN, True)],
)
def test_backward_lost_and_reopen_are_ungated_but_need_a_reason(frm, to, direction, needs_reason):
    result = check_gate(deal(frm), to, PB)
    assert result.direction is direction
    assert result.missing == ()
    assert result.open
    assert result.needs_reason is needs_reason


def test_same_stage_is_not_a_move():
    result = check_gate(deal("b"), "b", PB)
    assert result.direction is Direction.SAME and not result.open


def test_unknown_stage_names_the_known_ones():
    with pytest.raises(UnknownStage, match=r"unknown stage 'zz' \(stages: a, b, c, d, lost\)"):
        check_gate(deal("a"), "zz", PB)


def test_missing_for_next_is_empty_for_closed_deals_and_gate_for_open():
    assert missing_for_next(deal("d"), PB) == ()
    assert missing_for_next(deal("lost"), PB) == ()
    assert [m.key for m in missing_for_next(deal("c"), PB)] == ["signed_off", "coach"]


def _with_entry() -> Playbook:
    """The mini playbook where entering b needs its marker, and entering d (won) needs "paid"."""
    b, d = PB.stage("b"), PB.stage("d")
    b = replace(b, entry=EntryCriteria(marker=True))
    d = replace(d, characteristics=(Item("paid", Text("paid")),), entry=EntryCriteria(characteristics=("paid",)))
    return replace(PB, stages=(PB.stage("a"), b, PB.stage("c"), d))


def test_entering_a_stage_needs_its_marker_shown():
    pb = _with_entry()
    ready = deal("a", characteristics=frozenset({"fit"}), bant=bant("need"))
    result = check_gate(ready, "b", pb)
    assert result.missing == (Missing("b", Kind.CHARACTERISTIC, marker_key("b"), entering=True),)
    assert label(result.missing[0], pb) == "marker: b marker"
    assert check_gate(replace(ready, characteristics=frozenset({"fit", "marker_b"})), "b", pb).open


def test_won_needs_its_entry_criteria_even_when_the_stage_left_has_none_missing():
    pb = _with_entry()
    d = deal("c", characteristics=frozenset({"signed_off"}), roles={"coach": ("Ann",)})
    assert check_gate(d, "d", pb).missing == (Missing("d", Kind.CHARACTERISTIC, "paid", entering=True),)


def test_skipping_checks_the_entry_of_every_stage_passed_through():
    keys = [(m.stage, m.key, m.entering) for m in check_gate(deal("a"), "c", _with_entry()).missing]
    assert ("b", "marker_b", True) in keys and keys.index(("a", "fit", False)) < keys.index(("b", "marker_b", True))


def test_a_new_deal_in_a_later_stage_passes_the_same_gates_as_a_move_from_the_first():
    pb = _with_entry()
    d = deal("c", bant=bant("need"))
    assert check_new(d, pb).missing == check_gate(replace(d, stage="a"), "c", pb).missing
    assert check_new(deal("a"), pb).missing == ()


def test_the_team_meeting_takes_late_stage_deals_first_then_the_largest():
    from decimal import Decimal

    from bot.domain.meeting import meeting_order

    deals = [deal("a", ref="D-1", amount=Decimal(900)), deal("c", ref="D-2", amount=Decimal(10)),
             deal("c", ref="D-3", amount=Decimal(50)), deal("d", ref="D-4", amount=Decimal(5000)),
             deal("lost", ref="D-5", amount=Decimal(7000)), deal("b", ref="D-6", amount=Decimal(1))]
    assert [d.ref for d in meeting_order(deals, PB)] == ["D-3", "D-2", "D-6", "D-1"]
    # Compared in one currency when asked: D-2 is the larger once converted.
    assert [d.ref for d in meeting_order(deals, PB, amount_of=lambda d: d.amount * (100 if d.ref == "D-2" else 1))][:2] \
        == ["D-2", "D-3"]
