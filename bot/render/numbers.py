"""The team's numbers as text (for the terminal) and as Block Kit (for ``/pipeline plan``)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import Block

from bot.domain.plan import Plan
from bot.domain.playbook import Playbook
from bot.render.blocks import context, header, macro, section

SCORES_SHOWN = 5  # open deals listed with their lead score in a report


def _n(name: str, /, **ctx: Any) -> str:
    return macro("numbers.j2", name, **ctx)


def plan_text(plan: Plan, currency: str = "") -> str:
    """The plan's arithmetic as plain text (``coach plan``)."""
    return _n("plan", p=plan, currency=currency).replace(" ·  ·", " ·")


def report_text(n: Any, playbook: Playbook, lang: str = "en") -> str:
    """``coach report``: a person's numbers, section by section (``n`` is a ``services.numbers.Numbers``)."""
    parts = [f"{n.name} <{n.email}> · {n.today.isoformat()}", _n("coverage", n=n)]
    parts.append(_n("plan", p=n.plan, currency=n.currency) if n.plan else _n("no_plan", n=n))
    parts += [_n("activity_ratios", n=n), _n("vs_actual", n=n), _n("conversions", n=n, pb=playbook, lang=lang),
              _n("times", n=n, pb=playbook, lang=lang), _n("outcomes", n=n)]
    if n.scores:
        lines = ["Lead scores (open deals, highest first: score, deal, what would raise it most)"]
        lines += ["• " + _n("score_line", f=f, s=s, pb=playbook, lang=lang) for f, s in n.scores[:SCORES_SHOWN]]
        if len(n.scores) > SCORES_SHOWN:
            lines.append(f"… and {len(n.scores) - SCORES_SHOWN} more")
        parts.append("\n".join(lines))
    return "\n\n".join(p for p in parts if p)


def plan_blocks(n: Any, playbook: Playbook, lang: str = "en") -> list[Block]:
    """``/pipeline plan``: the plan beside last week's activity, coverage and the ratios it used."""
    period = n.target.period if n.target else n.today.strftime("%Y-%m")
    blocks: list[Block] = [header(_n("plan_header", name=n.name, period=period)), section(_n("coverage", n=n, b="*"))]
    blocks.append(section(_n("plan", p=n.plan, currency=n.currency, b="*") if n.plan else _n("no_plan", n=n, b="*")))
    blocks.append(section(_n("vs_actual", n=n, b="*")))
    blocks.append(context(_n("activity_ratios", n=n).replace("\n", " ")))
    return blocks


def team_targets_blocks(rows: Sequence[Any], *, usage: dict[str, str]) -> list[Block]:
    """``/pipeline target`` alone: each direct report's target for this period, and how to set one."""
    return [section(_n("team_targets", rows=list(rows))), context(macro("errors.j2", "usage", **usage))]


def target_set_blocks(name: str, period: str, amount: Decimal, currency: str) -> list[Block]:
    return [section(_n("target_set", name=name, period=period, amount=amount, currency=currency))]
