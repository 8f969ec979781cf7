from datetime import date
from decimal import Decimal

from bot.domain.digest import CommentRow, OrgInput, ReportRow, compute
from bot.domain.waterfall import Snapshot
from bot.render.blocks import as_dicts
from bot.render.digest import delta, digest_blocks
from tests.unit.factories import T0, deal, mini_playbook

PB = mini_playbook()


def text(blocks) -> str:
    return "\n".join(str(b.get("text", {}).get("text", "")) for b in as_dicts(blocks))


def test_digest_renders_totals_changes_attention_checkins_and_comments():
    deals = [deal("b", ref=f"D-{i}", owner="r1", amount=Decimal(1000 * i), stage_entered_at=T0) for i in range(1, 6000)]
    last = {"D-1": Snapshot("D-1", "a", Decimal(1000), "USD", None, "pipeline")}
    nodes = compute(OrgInput(deals, last, {}, {"m": ["r1"]}, {"r1": "partial"}), ["m"], PB, now=T0)
    blocks = digest_blocks(
        "Maria", date(2026, 11, 23), nodes["m"], PB,
        reports=[ReportRow("Rob <&> Rep", False, "partial", nodes["r1"])],
        comments=[CommentRow("Lee", "Two big ones slip to Q1", Decimal(50000), None, "USD")],
        not_finished=["Rob"], away=[], names={"r1": "Rob"},
    )
    assert len(blocks) <= 50
    out = text(blocks)
    assert "Pipeline digest · week of 23 Nov · Maria" in as_dicts(blocks)[0]["text"]["text"]
    assert "5999 deals" in out and "vs last week" in out
    assert "advanced 1" in out and "new 5998" in out
    assert "Rob &lt;&amp;&gt; Rep" in out  # user text is escaped
    assert "*Lee*: Two big ones slip to Q1 · forecast: commit USD 50,000, best case –" in out
    assert "Not finished: Rob" in out and "partial 1" in out


def test_delta_by_currency():
    assert delta({"USD": Decimal(10), "EUR": Decimal(5)}, {"USD": Decimal(4), "GBP": Decimal(2)}) == "+EUR 5, −GBP 2, +USD 6"
    assert delta({}, {}) == "no change"
