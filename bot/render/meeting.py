"""The Monday team meeting list and the action-plan form."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import Block

from bot import i18n
from bot.domain.coaching import label
from bot.domain.deal import DealFacts
from bot.domain.gates import missing_for_next
from bot.domain.meeting import MeetingRow
from bot.domain.playbook import Playbook
from bot.render.blocks import button, context, header, macro, section
from bot.render.ids import Action
from bot.render.ids import Block as B
from bot.render.ids import View as V
from bot.render.modals import date_input, modal_view, text_input


def _m(name: str, /, **ctx: Any) -> str:
    return macro("meeting.j2", name, **ctx)


def meeting_blocks(name: str, rows: Sequence[MeetingRow], open_count: int, playbook: Playbook, *,
                   lang: str | None = None) -> list[Block]:
    """Each important deal with its open gaps and its plan, and a button to agree one."""
    lang = lang or i18n.current()  # the language in force unless told
    blocks: list[Block] = [header(_m("title", name=name)), context(_m("intro", shown=len(rows), of=open_count))]
    for r in rows:
        gaps = [label(m, playbook, lang) for m in missing_for_next(r.deal, playbook)]
        text = _m("deal", d=r.deal, owner=r.owner, pb=playbook, gaps=gaps, plans=r.deal.open_plans, lang=lang)
        blocks.append(section(text, accessory=button(_m("plan_button"), Action.MEETING_PLAN, {"ref": r.deal.ref})))
    if not rows:
        blocks.append(section(_m("empty")))
    return blocks


def plan_modal(d: DealFacts, owner: str, *, metadata: dict[str, Any]) -> dict[str, Any]:
    """What, who, by when."""
    blocks: list[Block] = [
        section(_m("plan_context", d=d, owner=owner)),
        text_input(B.PLAN_WHAT, _m("what_label"), multiline=True, max_length=1000),
        text_input(B.PLAN_WHO, _m("who_label"), initial=owner, max_length=200),
        date_input(B.PLAN_DUE, _m("due_label"), initial=None, optional=False),
    ]
    return modal_view(V.ACTION_PLAN, _m("plan_title", ref=d.ref), blocks, metadata, _m("plan_submit"))


def plan_saved(d: DealFacts, what: str, who: str, due: Any, *, within: date | None = None) -> list[Block]:
    """The plan agreed; ``within``: the day it was agreed (a due date in its year is written without it)."""
    return [section(_m("plan_saved", d=d, what=what, who=who, due=due, within=within))]
