"""The live roll-up for /pipeline and the Home tab."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from bot import i18n
from bot.domain.playbook import Playbook
from bot.domain.rollup import TeamRollup, Totals
from bot.render import text
from bot.render.blocks import header, macro, section

MAX_REPORT_LINES = 40  # direct reports listed before summarising the rest


def _p(name: str, /, **ctx: Any) -> str:
    return macro("pipeline.j2", name, **ctx)


def totals_blocks(t: Totals, playbook: Playbook, lang: str | None = None) -> list[Block]:
    lang = lang or i18n.current()  # the language in force unless told
    return [
        section(_p("totals", t=t)),
        section(_p("by_stage", t=t, pb=playbook, lang=lang)),
        section(_p("by_forecast", t=t)),
    ]


def pipeline_blocks(whose: str, rollup: TeamRollup, playbook: Playbook, *,
                    reports: Sequence[tuple[str, str, bool]], lang: str | None = None) -> list[Block]:
    """``reports`` is (key, display name, is a manager) for each direct report, in order."""
    lang = lang or i18n.current()  # the language in force unless told
    blocks: list[Block] = [header(_p("header", whose=text.whose(whose))), *totals_blocks(rollup.total, playbook, lang)]
    if reports:
        lines = [_p("reports_header")]
        for key, name, is_manager in reports[:MAX_REPORT_LINES]:
            lines.append(_p("report_line", name=name, t=rollup.by_report[key], is_manager=is_manager))
        if len(reports) > MAX_REPORT_LINES:
            lines.append(_p("more_reports", n=len(reports) - MAX_REPORT_LINES))
        blocks.append(section("\n".join(lines)))
    return blocks
