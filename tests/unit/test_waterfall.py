from datetime import date, datetime, timedelta
from decimal import Decimal

from bot.domain.waterfall import Change, Concern, Snapshot, attention, waterfall
from tests.unit.factories import T0, bant, deal, mini_playbook

PB = mini_playbook()


def snap(ref: str, stage: str, amount: int = 100, close: date | None = date(2027, 1, 31)) -> Snapshot:
    return Snapshot(ref, stage, Decimal(amount), "USD", close, "pipeline")


def test_waterfall_lists_every_kind_of_change():
    last = {
        "D-1": snap("D-1", "a"), "D-2": snap("D-2", "c"), "D-3": snap("D-3", "b"), "D-4": snap("D-4", "c"),
        "D-5": snap("D-5", "b"), "D-6": snap("D-6", "d"), "D-7": snap("D-7", "b"),
    }
    now = [
        deal("b", ref="D-1", amount=Decimal(100), close_date=date(2027, 1, 31)),  # advanced
        deal("a", ref="D-2", amount=Decimal(100), close_date=date(2027, 1, 31)),  # moved back
        deal("b", ref="D-3", amount=Decimal(150), close_date=date(2027, 3, 31)),  # slipped + amount
        deal("d", ref="D-4", amount=Decimal(100), close_date=date(2027, 1, 31)),  # won
        deal("lost", ref="D-5", amount=Decimal(100), close_date=date(2027, 1, 31)),  # lost
        deal("d", ref="D-6", amount=Decimal(100)),  # closed last week already: nothing
        deal("b", ref="D-7", amount=Decimal(100), close_date=date(2027, 1, 1)),  # pulled in: not a slip
        deal("a", ref="D-8", amount=Decimal(5)),  # new
    ]
    got = {(m.ref, m.change) for m in waterfall(last, now, PB)}
    assert got == {
        ("D-1", Change.ADVANCED), ("D-2", Change.MOVED_BACK), ("D-3", Change.SLIPPED), ("D-3", Change.AMOUNT),
        ("D-4", Change.WON), ("D-5", Change.LOST), ("D-8", Change.NEW),
    }
    text = {(m.ref, m.change): m.describe() for m in waterfall(last, now, PB)}
    name = PB.stage_name
    assert text[("D-1", Change.ADVANCED)] == f"advanced {name('a')} → {name('b')}"
    assert text[("D-2", Change.MOVED_BACK)] == f"moved back {name('c')} → {name('a')}"
    assert text[("D-3", Change.SLIPPED)].startswith("close date slipped ")
    assert text[("D-3", Change.AMOUNT)].startswith("amount ") and text[("D-3", Change.AMOUNT)].endswith(" 150")
    assert text[("D-4", Change.WON)] == f"won (was in {name('c')})"
    assert text[("D-5", Change.LOST)] == f"lost in {name('b')}"
    assert text[("D-8", Change.NEW)] == f"new, in {name('a')}"


def test_attention_flags_stalled_slipping_gaps_and_big_late_deals():
    now = T0 + timedelta(days=30)
    deals = [
        deal("a", ref="D-1", stage_entered_at=T0, amount=Decimal(10)),  # 30 days > 14: stalled; needs BANT need
        deal("b", ref="D-2", stage_entered_at=now, amount=Decimal(10), bant=bant("need", "budget"),
             roles={"economic_buyer": ("Eve",)}, close_date=date(2027, 3, 1)),
        deal("c", ref="D-3", stage_entered_at=now, amount=Decimal(900), roles={"coach": ("Cy",)}),
        deal("d", ref="D-4", stage_entered_at=T0, amount=Decimal(10**6)),  # won: never flagged
    ]
    close_dates = {"D-2": [date(2027, 1, 1), date(2027, 2, 1)]}  # then 2027-03-01 now: pushed out twice
    got = {(a.ref, a.concern) for a in attention(deals, PB, now=now, close_dates=close_dates, big_amount=Decimal(500))}
    assert got == {
        ("D-1", Concern.STALLED), ("D-1", Concern.GAPS),
        ("D-2", Concern.SLIPPING),
        ("D-3", Concern.BIG_LATE),
    }
    detail = {a.concern: a.detail for a in attention(deals, PB, now=now, close_dates=close_dates, big_amount=Decimal(500))
              if a.ref == "D-1"}
    assert detail[Concern.STALLED] == "30 days in A (limit 14)"
    assert detail[Concern.GAPS] == "missing BANT need"
    assert isinstance(now, datetime)


def test_attention_flags_deals_with_no_update_for_weeks_and_overdue_next_steps():
    now = T0 + timedelta(days=30)
    fresh = dict(stage_entered_at=now, updated_at=now - timedelta(days=13))
    deals = [
        deal("a", ref="D-1", **fresh),
        deal("a", ref="D-2", stage_entered_at=now, updated_at=now - timedelta(days=15)),
        deal("a", ref="D-3", next_step="Demo", next_step_date=(now - timedelta(days=1)).date(), **fresh),
        deal("a", ref="D-4", next_step="Demo", next_step_date=now.date(), **fresh),
        deal("d", ref="D-5", stage_entered_at=now, updated_at=now - timedelta(days=90)),  # won: not flagged
    ]
    flags = {(a.ref, a.concern): a.detail for a in attention(deals, PB, now=now, quiet_weeks=2)
             if a.concern in (Concern.QUIET, Concern.OVERDUE)}
    assert flags == {("D-2", Concern.QUIET): "no update for 2 weeks (since 2026-01-20)",
                     ("D-3", Concern.OVERDUE): "next step “Demo” was due 2026-02-03"}
    assert not [a for a in attention(deals, PB, now=now, quiet_weeks=3) if a.concern is Concern.QUIET]
