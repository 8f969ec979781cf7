"""Charts: drawn from the right numbers, as PNGs of the size Slack previews well."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from matplotlib.image import imread

from bot.domain.waterfall import Snapshot, bridge
from bot.render.charts import (
    ActivityData,
    FunnelData,
    FunnelStage,
    WaterfallData,
    _floor,
    activity_png,
    funnel_png,
    short_amount,
    waterfall_png,
)
from tests.unit.factories import deal, mini_playbook

PB = mini_playbook()


def _size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    h, w, _ = imread(io.BytesIO(png), format="png").shape
    return w, h


def test_each_chart_is_a_960_by_600_png():
    f = FunnelData("Funnel", "EUR", [FunnelStage("A", 5, Decimal(50_000)), FunnelStage("B", 0, Decimal(0))], [(2, 5)])
    w = WaterfallData("Week", "EUR", Decimal(100), [("New", Decimal(20), 1), ("Lost", Decimal(-50), 2)], Decimal(70))
    a = ActivityData("Plan", ["Visits", "Calls", "Proposals"], [6.0, 12.0, 3.0], [5, None, 4], "a note")
    for png in (funnel_png(f), waterfall_png(w), activity_png(a)):
        assert _size(png) == (960, 600)


def test_short_amounts_and_where_the_axis_starts():
    assert [short_amount(x) for x in (950, 1500, 34_000, 1_200_000, -90_000)] == ["950", "1.5k", "34k", "1.2M", "−90k"]
    assert _floor([807_000, 835_000, 805_000]) == 760_000  # small moves on big totals: cut the axis
    assert _floor([870_000, 990_000, 485_000]) == 0.0  # big moves: from zero


def test_the_bridge_adds_up_from_last_week_to_this_week():
    last = {r: Snapshot(r, s, Decimal(a), "EUR", date(2027, 1, 1), "pipeline") for r, s, a in
            [("1", "a", 100), ("2", "b", 200), ("3", "b", 300), ("4", "c", 400), ("5", "d", 50), ("6", "a", 70)]}
    now = [deal("b", ref="1", amount=Decimal(100), currency="EUR", close_date=date(2027, 2, 1)),  # advanced, slipped
           deal("d", ref="2", amount=Decimal(250), currency="EUR"),  # won (counts last week's 200)
           deal("lost", ref="3", amount=Decimal(300), currency="EUR"),  # lost
           deal("c", ref="4", amount=Decimal(450), currency="EUR", close_date=date(2027, 1, 1)),  # amount +50
           deal("d", ref="5", amount=Decimal(50), currency="EUR"),  # closed already: no news
           deal("a", ref="6", amount=Decimal(70), currency="USD"),  # currency changed: other
           deal("a", ref="7", amount=Decimal(30), currency="EUR")]  # new
    b = bridge(last, now, PB, "EUR")
    assert (b.start, b.new, b.amount_changes, b.won, b.lost, b.end) == (
        1070, (30, 1), (50, 1), (-200, 1), (-300, 1), 580)
    assert b.other == (-70, 1) and (b.advanced, b.moved_back, b.slipped) == (1, 0, 1)
    assert b.start + sum(x[0] for x in (b.new, b.amount_changes, b.won, b.lost, b.other)) == b.end


def test_a_chinese_chart_draws_every_glyph_with_the_bundled_font():
    """No "missing glyph" warning: the CJK font comes with the package (pylopdf-fonts-zh-cn's Noto Sans SC)."""
    import warnings

    from matplotlib import font_manager, rcParams

    from bot import i18n

    assert "Noto Sans SC" in rcParams["font.family"]
    assert any(f.name == "Noto Sans SC" for f in font_manager.fontManager.ttflist)
    with i18n.language("zh"), warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph missing from every font would raise here
        w = WaterfallData("本周在跟进商机 · 王芳的团队", "CNY", Decimal(4_800_000),
                          [("新增", Decimal(120_000), 1), ("丢单", Decimal(-106_000), 2)], Decimal(4_814_000))
        f = FunnelData("销售漏斗", "AUD", [FunnelStage("意向客户", 5, Decimal(1_000_400)),
                                            FunnelStage("立项客户", 2, Decimal(930_000))], [(2, 5)])
        assert _size(waterfall_png(w)) == _size(funnel_png(f)) == (960, 600)
