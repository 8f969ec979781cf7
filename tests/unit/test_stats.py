"""Conversion ratios with their fallback, time in stage, the stalled rule, outcomes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.history import Transition, conversions
from bot.domain.stats import (
    ClosedDeal,
    Source,
    choose_ratio,
    conversion_ratios,
    in_window,
    is_stalled,
    outcomes,
    percentile,
    stall_limits,
    time_in_stage,
)
from tests.unit.factories import T0, mini_playbook

PB = mini_playbook()


def path(deal: str, *stages_days: tuple[str, int]) -> list[Transition]:
    out, prev = [], None
    for stage, day in stages_days:
        out.append(Transition(deal, prev, stage, T0 + timedelta(days=day)))
        prev = stage
    return out


def test_conversions_count_deals_that_reached_each_stage() -> None:
    ts = [*path("1", ("a", 0), ("b", 5), ("c", 9)), *path("2", ("a", 0), ("b", 4)), *path("3", ("a", 1)),
          *path("4", ("a", 1), ("lost", 8))]
    conv = conversions(ts, PB)
    assert [(c.reached_from, c.reached_to) for c in conv] == [(4, 2), (2, 1), (1, 0)]
    assert conv[0].one_in == 2 and conv[1].rate == 0.5 and conv[2].one_in is None


def test_window_keeps_only_recent_moves() -> None:
    ts = [*path("1", ("a", 0), ("b", 100)), *path("2", ("a", 90))]
    recent = in_window(ts, T0 + timedelta(days=50), T0 + timedelta(days=120))
    assert [(t.deal, t.to_stage) for t in recent] == [("1", "b"), ("2", "a")]


def test_fallback_rep_then_team_then_playbook_and_says_which() -> None:
    rep = conversions([*path("1", ("a", 0), ("b", 1)), *path("2", ("a", 0))], PB)  # 2 reached a: too few
    team_ts = [t for i in range(10) for t in path(f"t{i}", ("a", 0), *([("b", 2)] if i < 4 else []))]
    team = conversions(team_ts, PB)
    ratios = conversion_ratios(rep, team, [3.0, 2.0, 2.0], min_sample=5)
    assert ratios[0].source is Source.TEAM and ratios[0].value == 2.5 and ratios[0].sample == 10
    assert ratios[1].source is Source.PLAYBOOK and ratios[1].value == 2.0  # nobody reached c
    big_rep = conversions([t for i in range(6) for t in path(f"r{i}", ("a", 0), *([("b", 1)] if i % 2 else []))], PB)
    assert conversion_ratios(big_rep, team, [3.0, 2.0, 2.0])[0].source is Source.REP


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "lost"]), st.integers(0, 200)), max_size=60),
       st.integers(1, 10))
def test_ratio_bounds(moves, min_sample) -> None:
    ts = [Transition(f"d{i % 7}", None, stage, T0 + timedelta(days=day)) for i, (stage, day) in enumerate(moves)]
    conv = conversions(ts, PB)
    for c in conv:
        assert 0 <= c.reached_to <= c.reached_from
        assert c.rate is None or 0 <= c.rate <= 1
        assert c.one_in is None or c.one_in >= 1
    for r in conversion_ratios(conv, conv, [3.0, 2.0, 2.0], min_sample=min_sample):
        assert r.value >= 1 and r.sample >= 0
        assert (r.source is Source.PLAYBOOK) or r.sample >= min_sample


def test_choose_ratio_ignores_zero_and_missing() -> None:
    assert choose_ratio([(Source.REP, None, 9), (Source.TEAM, 4.0, 9)], 3).source is Source.TEAM
    assert choose_ratio([(Source.REP, 0.0, 9)], 3).value == 3


def test_time_in_stage_median_p80_and_stalled_rule() -> None:
    ts = [t for i, d in enumerate([2, 4, 6, 8, 10]) for t in path(f"{i}", ("a", 0), ("b", d))]
    now = T0 + timedelta(days=30)
    times = {t.stage: t for t in time_in_stage(ts, PB, since=T0, now=now)}
    assert (times["a"].median, times["a"].p80, times["a"].sample) == (6, 8.4, 5)
    assert times["b"].median is None  # nobody has left b yet
    no_limit = replace(PB, stages=tuple(replace(s, stall_days=None) if s.key == "a" else s for s in PB.stages))
    limits = stall_limits(no_limit, list(times.values()))
    assert limits["a"] == 8.4 and limits["b"] == 14  # the team's p80 where the playbook gives none
    assert is_stalled(9, "a", limits) and not is_stalled(8, "a", limits)
    assert not is_stalled(1000, "nowhere", limits)


def test_percentile() -> None:
    assert percentile([], 0.8) is None
    assert percentile([5], 0.8) == 5
    assert percentile([1, 2, 3, 4, 5], 0.5) == 3


def test_outcomes_win_rate_average_and_cycle() -> None:
    def closed(ref: str, won: bool, amount: int, days: int, currency: str = "EUR") -> ClosedDeal:
        return ClosedDeal(ref, "rep", won, Decimal(amount), currency, T0, T0 + timedelta(days=days))

    o = outcomes([closed("1", True, 1000, 30), closed("2", True, 3000, 50), closed("3", False, 9000, 10),
                  closed("4", True, 500, 40, "USD"), closed("5", True, 1, 400)],
                 since=T0, until=T0 + timedelta(days=100))
    assert (o.won, o.lost, o.closed) == (3, 1, 4)
    assert o.win_rate == 0.75
    assert o.average_deal == {"EUR": Decimal("2000.00"), "USD": Decimal("500.00")}
    assert o.cycle_days == 40
    assert outcomes([], since=T0, until=T0).win_rate is None


def test_the_attention_list_uses_the_stall_limits_it_is_given():
    from bot.domain.waterfall import Concern, attention
    from tests.unit.factories import deal

    d = deal("a", stage_entered_at=T0)
    now = T0 + timedelta(days=10)
    assert not [a for a in attention([d], PB, now=now) if a.concern is Concern.STALLED]  # playbook: 14 days
    flagged = [a for a in attention([d], PB, now=now, stall_limits={"a": 8.4}) if a.concern is Concern.STALLED]
    assert [a.detail for a in flagged] == ["10 days in A (limit 8)"]
    assert not [a for a in attention([d], PB, now=now, stall_limits={}) if a.concern is Concern.STALLED]
