"""The lead score: bounds, what raises it, and that it ages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.deal import BantAnswer
from bot.domain.score import ScoreWeights, lead_score
from tests.unit.factories import T0, bant, deal, mini_playbook

PB = mini_playbook()
NOW = T0 + timedelta(days=3)


def test_an_empty_new_deal_scores_low_and_a_qualified_late_one_high() -> None:
    empty = lead_score(deal("a", stage_entered_at=NOW), PB, now=NOW)
    assert empty.value == 10  # only recency: fresh, nothing known
    full = deal("c", stage_entered_at=NOW, bant=bant("budget", "authority", "need", "timeline"),
                roles={"economic_buyer": ("Ann",), "coach": ("Bo",)}, characteristics=frozenset({"fit", "signed_off"}),
                evaluations={"real": {f"r{i}": True for i in range(5)}})
    s = lead_score(full, PB, now=NOW)
    assert s.value == 100 - round(15 / 3)  # all but the last third of the funnel
    assert s.best is None


def test_the_best_improvement_is_the_biggest_single_step() -> None:
    # At b nothing is known but two BANT answers: passing the playbook's only evaluation
    # (all 15 evaluation points and one of the funnel's seven exit items) is worth most.
    d = deal("b", stage_entered_at=NOW, bant=bant("need", "budget"))
    assert lead_score(d, PB, now=NOW).best.kind == "evaluation"
    passed = {"real": {f"r{i}": True for i in range(5)}}
    d = deal("b", stage_entered_at=NOW, bant=bant("need", "budget"), evaluations=passed)
    s = lead_score(d, PB, now=NOW)
    # Then the economic buyer: half the roles (7.5) plus one of seven exit items (2.9), more than a BANT answer (6.25).
    assert (s.best.kind, s.best.key, s.best.gain) == ("role", "economic_buyer", 10)
    named = deal("b", stage_entered_at=NOW, bant=bant("need", "budget"), evaluations=passed,
                 roles={"economic_buyer": ("Ann",)})
    assert lead_score(named, PB, now=NOW).value == s.value + s.best.gain


def test_stale_answers_and_an_untouched_deal_lose_points() -> None:
    d = deal("b", stage_entered_at=T0, bant=bant("need", "budget", "authority", "timeline"))
    fresh = lead_score(d, PB, now=T0 + timedelta(days=1)).value
    later = lead_score(d, PB, now=T0 + timedelta(days=100))
    assert later.value < fresh
    assert later.parts["recency"] == 0 and later.parts["bant"] == 12.5
    # Updating the untouched deal (10 recency points) beats refreshing one BANT answer (3.1).
    assert later.best.kind == "evaluation"
    assert lead_score(d, PB, now=T0 + timedelta(days=100), weights=ScoreWeights(evaluations=0, roles=0, stage=45)).best.kind \
        == "update"


def test_weights_come_from_the_playbook_and_closed_deals_are_not_scored() -> None:
    w = ScoreWeights(bant=0, exit=0, roles=0, evaluations=0, stage=0, recency=100)
    assert lead_score(deal("a", updated_at=NOW), PB, now=NOW, weights=w).value == 100
    with pytest.raises(ValueError):
        lead_score(deal("d"), PB, now=NOW)


@given(stage=st.sampled_from(["a", "b", "c"]), keys=st.sets(st.sampled_from(["budget", "authority", "need", "timeline"])),
       ages=st.integers(0, 400), roles=st.sets(st.sampled_from(["economic_buyer", "coach"])),
       yes=st.integers(0, 5), chars=st.sets(st.sampled_from(["fit", "signed_off"])), entered=st.integers(0, 400))
def test_score_is_always_0_to_100_and_improvements_keep_it_there(stage, keys, ages, roles, yes, chars, entered) -> None:
    now = T0 + timedelta(days=400)
    d = deal(stage, stage_entered_at=T0 + timedelta(days=entered),
             bant={k: BantAnswer("y", T0 + timedelta(days=ages)) for k in keys},
             roles={r: ("x",) for r in roles}, characteristics=frozenset(chars),
             evaluations={"real": {f"r{i}": True for i in range(yes)}})
    s = lead_score(d, PB, now=now)
    assert 0 <= s.value <= 100
    assert abs(sum(s.parts.values()) - s.value) <= 0.5
    if s.best is not None:
        assert 0 < s.best.gain <= 100 - s.value


FACTS = dict(
    keys=st.sets(st.sampled_from(["budget", "authority", "need", "timeline"])), ages=st.integers(0, 400),
    roles=st.sets(st.sampled_from(["economic_buyer", "coach"])), yes=st.integers(0, 5),
    chars=st.sets(st.sampled_from(["fit", "signed_off"])), entered=st.integers(0, 400),
)


def _deal_at(stage, keys, ages, roles, yes, chars, entered):
    return deal(stage, stage_entered_at=T0 + timedelta(days=entered),
                bant={k: BantAnswer("y", T0 + timedelta(days=ages)) for k in keys},
                roles={r: ("x",) for r in roles}, characteristics=frozenset(chars),
                evaluations={"real": {f"r{i}": True for i in range(yes)}})


@given(earlier=st.sampled_from(["a", "b", "c"]), later=st.sampled_from(["a", "b", "c"]), **FACTS)
def test_a_deal_further_along_with_the_same_answers_never_scores_lower(earlier, later, **facts) -> None:
    if PB.index(earlier) > PB.index(later):
        earlier, later = later, earlier
    now = T0 + timedelta(days=400)
    assert lead_score(_deal_at(earlier, **facts), PB, now=now).value <= lead_score(_deal_at(later, **facts), PB, now=now).value


@given(stage=st.sampled_from(["a", "b", "c"]), more=st.sampled_from(["bant", "role", "evaluation", "characteristic"]),
       **FACTS)
def test_what_the_customer_shows_never_lowers_the_score(stage, more, keys, ages, roles, yes, chars, entered) -> None:
    now = T0 + timedelta(days=400)
    before = lead_score(_deal_at(stage, keys, ages, roles, yes, chars, entered), PB, now=now).value
    if more == "bant":
        keys = keys | {"budget"}
    elif more == "role":
        roles = roles | {"coach"}
    elif more == "evaluation":
        yes = min(5, yes + 1)
    else:
        chars = chars | {"fit"}
    assert lead_score(_deal_at(stage, keys, ages, roles, yes, chars, entered), PB, now=now).value >= before


def test_the_default_playbook_scores_a_later_stage_higher_with_the_same_answers() -> None:
    # The case: Target 30, Shortlisted 20, Prospect 12 on the default playbook.
    from bot.playbooks.loader import load_playbook

    pb = load_playbook("default")
    now = T0 + timedelta(days=1)
    scores = [lead_score(deal(s.key, stage_entered_at=T0, bant=bant("need")), pb, now=now).value
              for s in pb.stages if not pb.is_closed(s.key)]
    assert scores == sorted(scores) and scores[0] < scores[-1]
