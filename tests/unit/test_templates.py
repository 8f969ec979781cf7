"""Template wording: line structure, escaping and strictness."""

from datetime import UTC, date, datetime
from decimal import Decimal

import jinja2
import pytest

from bot.playbooks.loader import load_playbook
from bot.render.blocks import macro
from bot.render.deal_blocks import HistoryLine
from tests.unit.factories import deal

PB = load_playbook("default")
AT = datetime(2026, 11, 23, tzinfo=UTC)


def test_each_history_entry_is_its_own_line():
    lines = [HistoryLine(AT, None, "prospect", "Ann", "", False),
             HistoryLine(AT, "prospect", "project", "Ben", "CEO said yes", True)]
    text = macro("deal.j2", "history_section", changes=lines, pb=PB, lang="en")
    assert text.splitlines() == [
        "*History*",
        "• 2026-11-23: created in Prospect by Ann",
        "• 2026-11-23: Prospect → Project approved by Ben · *gate overridden*: “CEO said yes”",
    ]


def test_list_line_puts_coaching_on_its_own_line():
    d = deal("prospect", amount=Decimal(5), currency="EUR", close_date=date(2027, 1, 1))
    lines = macro("deal.j2", "list_line", d=d, pb=PB, missing=["BANT: Need"], lang="en").splitlines()
    assert lines == ["*D-1* Acme rollout · EUR 5 · 2027-01-01", "    _to reach Interested:_ BANT: Need"]


def test_user_text_is_escaped_and_undefined_names_fail():
    d = deal("prospect", name="<b>&co</b>")
    assert "&lt;b&gt;&amp;co&lt;/b&gt;" in macro("deal.j2", "updated", d=d)
    with pytest.raises(jinja2.UndefinedError):
        macro("deal.j2", "updated")  # the deal is missing: an error, not an empty message


def test_pipeline_totals_show_no_amount_where_there_is_nothing():
    from bot.domain.rollup import totals

    t = totals([deal("prospect", amount=Decimal(5000), currency="EUR")], PB)
    text = "\n".join([macro("pipeline.j2", "totals", t=t), macro("pipeline.j2", "by_stage", t=t, pb=PB, lang="en"),
                      macro("pipeline.j2", "by_forecast", t=t)])
    lines = text.splitlines()
    assert lines[:3] == ["*Open:* 1 deal · EUR 5,000", "*Weighted:* EUR 500", "*Won:* 0   *Lost:* 0"]
    assert "• Target (0%): 0" in lines and "• Prospect (10%): 1 · EUR 5,000" in lines
    assert "• commit: 0" in lines and "· 0" not in text


def test_a_deal_cards_history_lines_up_in_the_shell():
    from bot.demo.blocktext import to_text

    lines, _ = to_text([{"type": "context", "elements": [{"type": "mrkdwn", "text": "*History*\n• one\n• two"}]}])
    assert lines == ["  *History*", "  • one", "  • two"]
