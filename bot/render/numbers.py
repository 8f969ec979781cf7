"""The team's numbers as text (for the terminal) and as Block Kit (for ``/pipeline plan``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View as SlackView

from bot import i18n
from bot.domain.plan import Plan
from bot.domain.playbook import Playbook
from bot.i18n import _
from bot.render.blocks import actions, button, context, header, macro, section
from bot.render.ids import Action, View
from bot.render.ids import Block as B
from bot.render.modals import CURRENCIES, select_input, text_input

SCORES_SHOWN = 5  # open deals listed with their lead score in a report
MAX_REPORTS = 90  # amounts in the targets form: with its 3 other blocks, within a modal's 100


def _n(name: str, /, **ctx: Any) -> str:
    return macro("numbers.j2", name, **ctx)


def plan_text(plan: Plan, currency: str = "") -> str:
    """The plan's arithmetic as plain text (``coach plan``)."""
    return _n("plan", p=plan, currency=currency).replace(" ·  ·", " ·")


def report_text(n: Any, playbook: Playbook, lang: str | None = None) -> str:
    """``coach report``: a person's numbers, section by section (``n`` is a ``services.numbers.Numbers``)."""
    lang = lang or i18n.current()  # the language in force unless told
    parts = [f"{n.name} <{n.email}> · {n.today.isoformat()}", _n("coverage", n=n)]
    parts.append(_n("plan", p=n.plan, currency=n.currency, head=False) if n.plan else _n("no_plan", n=n))
    parts += [_n("activity_ratios", n=n), _n("vs_actual", n=n), _n("conversions", n=n, pb=playbook, lang=lang),
              _n("times", n=n, pb=playbook, lang=lang), _n("outcomes", n=n)]
    if n.scores:
        lines = [_("Lead scores (open deals, highest first: score, deal, what would raise it most)")]
        lines += ["• " + _n("score_line", f=f, s=s, pb=playbook, lang=lang) for f, s in n.scores[:SCORES_SHOWN]]
        if len(n.scores) > SCORES_SHOWN:
            lines.append(_("… and %(more)s more") % {"more": len(n.scores) - SCORES_SHOWN})
        parts.append("\n".join(lines))
    return "\n\n".join(p for p in parts if p)


def plan_blocks(n: Any, playbook: Playbook, lang: str | None = None) -> list[Block]:
    """``/pipeline plan``: the plan beside last week's activity, coverage and the ratios it used."""
    lang = lang or i18n.current()  # the language in force unless told
    period = n.target.period if n.target else n.today.strftime("%Y-%m")
    blocks: list[Block] = [header(_n("plan_header", name=n.name, period=period)), section(_n("coverage", n=n, b="*"))]
    blocks.append(section(_n("plan", p=n.plan, currency=n.currency, b="*", head=False) if n.plan
                          else _n("no_plan", n=n, b="*")))
    blocks.append(section(_n("vs_actual", n=n, b="*")))
    blocks.append(context(_n("activity_ratios", n=n).replace("\n", " ")))
    return blocks


def team_targets_blocks(rows: Sequence[Any], *, period: str, usage: dict[str, str]) -> list[Block]:
    """``/pipeline target`` alone: each direct report's target for this period, a button to set
    them all in a form, and the one-line way."""
    blocks: list[Block] = [section(_n("team_targets", rows=list(rows)))]
    if rows:
        blocks.append(actions(button(_n("set_targets_button"), Action.SET_TARGETS, {"period": period},
                                     style="primary")))
    return [*blocks, context(macro("errors.j2", "usage", **usage))]


def team_targets_modal(rows: Sequence[Any], *, period: str, currency: str) -> dict[str, Any]:
    """One amount per direct report (their own target for ``period`` filled in), the period and the currency."""
    codes = list(CURRENCIES) if currency in CURRENCIES else [currency, *CURRENCIES]
    blocks: list[Block] = [
        section(_n("set_targets_intro")),
        text_input(B.PERIOD, _("Period"), initial=period, max_length=10, hint=_n("period_hint")),
        select_input(B.CURRENCY, _("Currency"), [(c, c) for c in codes], initial=currency),
    ]
    for r in list(rows)[:MAX_REPORTS]:
        t = r.target
        own = t.amount if t is not None and not t.summed and t.period == period else None
        label = r.name + (" " + _("(team)") if r.is_manager else "")
        blocks.append(text_input(f"{B.TARGET_PREFIX}{r.person_id}", label, optional=True, max_length=30,
                                 initial=None if own is None else f"{own:f}"))
    view = SlackView(type="modal", callback_id=View.TEAM_TARGETS, title=_("Team targets"), submit=_("Save"),
                     close=_("Cancel"), blocks=blocks, private_metadata=json.dumps({"period": period}))
    return view.to_dict()


def target_set_blocks(name: str, period: str, amount: Decimal, currency: str) -> list[Block]:
    return [section(_n("target_set", name=name, period=period, amount=amount, currency=currency))]
