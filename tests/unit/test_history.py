from datetime import timedelta

import pytest

from bot.domain.history import Transition, conversions, median_days_in_stage, stints, time_in_stage
from tests.unit.factories import T0, mini_playbook

PB = mini_playbook()


def t(deal: str, frm: str | None, to: str, day: int) -> Transition:
    return Transition(deal, frm, to, T0 + timedelta(days=day))


HISTORY = [
    t("D-1", None, "a", 0), t("D-1", "a", "b", 10), t("D-1", "b", "d", 30),  # skips c: passes through it
    t("D-2", None, "a", 0), t("D-2", "a", "b", 4), t("D-2", "b", "lost", 20),
    t("D-3", None, "a", 0),
    t("D-4", None, "b", 2), t("D-4", "b", "c", 8), t("D-4", "c", "b", 9),  # moved back
]


def test_conversion_counts_the_furthest_stage_each_deal_reached_from_where_it_entered():
    conv = {(c.from_stage, c.to_stage): c for c in conversions(HISTORY, PB)}
    # D-4 was created in b: it never was in a, so it counts from b on.
    assert (conv["a", "b"].reached_from, conv["a", "b"].reached_to) == (3, 2)
    assert (conv["b", "c"].reached_from, conv["b", "c"].reached_to) == (3, 2)
    assert (conv["c", "d"].reached_from, conv["c", "d"].reached_to) == (2, 1)
    assert conv["a", "b"].rate == pytest.approx(2 / 3)
    assert conv["c", "d"].one_in == pytest.approx(2.0)


def test_a_deal_created_late_in_the_funnel_or_as_lost_is_not_counted_before_it_existed():
    late = [t("X-1", None, "c", 0), t("X-1", "c", "d", 5), t("X-2", None, "lost", 0)]
    conv = {(c.from_stage, c.to_stage): (c.reached_from, c.reached_to) for c in conversions(late, PB)}
    assert conv["a", "b"] == (0, 0) and conv["b", "c"] == (0, 0)
    assert conv["c", "d"] == (1, 1)


def test_a_window_starting_after_creation_counts_from_the_stage_the_first_move_left():
    moved = [t("Y-1", "b", "c", 3)]  # created in a, before the window; the window sees b -> c
    conv = {(c.from_stage, c.to_stage): (c.reached_from, c.reached_to) for c in conversions(moved, PB)}
    assert conv["a", "b"] == (0, 0) and conv["b", "c"] == (1, 1)


def test_conversion_with_no_history_has_no_rate():
    conv = conversions([], PB)
    assert all(c.rate is None and c.one_in is None for c in conv)


def test_stints_and_time_in_stage():
    s = [x for x in stints(HISTORY) if x.deal == "D-4"]
    assert [(x.stage, x.left is None) for x in s] == [("b", False), ("c", False), ("b", True)]
    assert time_in_stage(HISTORY, "D-4", T0 + timedelta(days=19)) == pytest.approx(10)
    assert time_in_stage(HISTORY, "D-404", T0) == 0


def test_median_days_in_stage_over_finished_stints():
    med = median_days_in_stage(HISTORY, PB, T0 + timedelta(days=40))
    assert med["a"] == pytest.approx(7)  # D-1 10 days, D-2 4 days; D-3 still there
    assert med["b"] == pytest.approx(16)  # 20, 16, 6 -> median 16 (D-4's second stint unfinished)
    assert med["c"] == pytest.approx(1)
    assert med["d"] is None
