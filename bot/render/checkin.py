"""The Monday check-in's messages and its per-deal question modal."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View as SlackView

from bot import i18n
from bot.domain import money
from bot.domain.checkin import Questions
from bot.domain.deal import DealFacts
from bot.domain.playbook import Playbook, marker_key
from bot.domain.score import Score
from bot.i18n import N_, _
from bot.render.blocks import actions, button, context, header, macro, page_nav, section
from bot.render.deal_blocks import missing_labels
from bot.render.ids import Action, View
from bot.render.ids import Block as B
from bot.render.modals import checkbox_input, currency_options, date_input, select_input, text_input
from bot.render.text import clip

PROMPT_PAGE = 8  # deals per prompt page: 2 blocks each keeps a page far below 50 blocks
FORECASTS = (("pipeline", N_("Pipeline")), ("best_case", N_("Best case")), ("commit", N_("Commit")))


def _c(name: str, /, **ctx: Any) -> str:
    return macro("checkin.j2", name, **ctx)


def prompt_blocks(name: str, week: date, deals: Sequence[DealFacts], outcomes: Mapping[str, tuple[str, bool]],
                  playbook: Playbook, *, page: int = 1, lang: str | None = None, activity: Any = None,
                  scores: Mapping[str, Score] | None = None, ask_activity: bool = False) -> list[Block]:
    """The check-in DM: deals with No change / Update buttons, paged; ``outcomes`` maps ref -> (outcome, late).

    With ``ask_activity`` it also asks for last week's visits, calls and proposals (``activity`` is
    what was answered, a ``services.targets.Activity``); ``scores`` shows each deal's lead score.
    """
    lang = lang or i18n.current()  # the language in force unless told
    value = {"week": week.isoformat()}
    asked = activity_blocks(week, activity) if ask_activity else []
    if not deals:
        return [header(_c("header", week=week)), section(_c("no_deals", name=name)),
                actions(button(_("Add a deal"), Action.NEW_DEAL, "checkin", style="primary")), *asked]
    total = money.total((d.currency, d.amount) for d in deals)
    pages = (len(deals) + PROMPT_PAGE - 1) // PROMPT_PAGE
    page = min(max(page, 1), pages)
    chunk = deals[(page - 1) * PROMPT_PAGE: page * PROMPT_PAGE]
    blocks: list[Block] = [
        header(_c("header", week=week)),
        section(_c("intro", name=name, count=len(deals), total=total, answered=len(outcomes))),
        actions(button(_c("walk_button"), Action.CHECKIN_WALK, value, style="primary")),
        *asked,
    ]
    for d in chunk:
        line = macro("deal.j2", "list_line", d=d, pb=playbook, missing=missing_labels(d, playbook, lang), lang=lang,
                     score=(scores or {}).get(d.ref))
        outcome, late = outcomes.get(d.ref, ("", False))
        blocks.append(section(_c("deal_line", line=line, outcome=outcome, late=late)))
        ref_value = {**value, "ref": d.ref}
        blocks.append(actions(button(_("No change"), Action.CHECKIN_NO_CHANGE, ref_value),
                              button(_("Update"), Action.CHECKIN_UPDATE, ref_value)))
    if pages > 1:
        first = (page - 1) * PROMPT_PAGE + 1
        blocks.append(context(_c("page_note", first=first, last=first + len(chunk) - 1, count=len(deals))))
        blocks.append(page_nav(Action.CHECKIN_PAGE, value, page, pages, next_label=_("More deals")))
    return blocks


def activity_blocks(week: date, activity: Any) -> list[Block]:
    """The three quick numbers about last week, answered or not, with a button to give (or change) them."""
    value = {"week": week.isoformat()}
    buttons = [button(_c("activity_button", answered=activity is not None and not activity.skipped),
                      Action.ACTIVITY_REPORT, value)]
    if activity is None:
        buttons.append(button(_c("activity_skip_button"), Action.ACTIVITY_SKIP, value))
    return [section(_c("activity_line", a=activity, last_week=week - timedelta(days=7))), actions(*buttons)]


def activity_modal(week: date, activity: Any) -> dict[str, Any]:
    """Last week's visits, calls and proposals sent: three whole numbers, each may stay empty."""
    def initial(n: int | None) -> str | None:
        return None if n is None else str(n)

    a = activity if activity is not None and not activity.skipped else None
    blocks: list[Block] = [section(_c("activity_intro", last_week=week - timedelta(days=7))),
                           text_input(B.VISITS, _("Visits (in person)"), optional=True, max_length=6,
                                      initial=initial(a.visits) if a else None),
                           text_input(B.CALLS, _("Calls"), optional=True, max_length=6,
                                      initial=initial(a.calls) if a else None),
                           text_input(B.PROPOSALS, _("Proposals sent"), optional=True, max_length=6,
                                      initial=initial(a.proposals) if a else None)]
    return SlackView(type="modal", callback_id=View.ACTIVITY, title=_("Last week"), submit=_("Save"), close=_("Cancel"),
                     blocks=blocks, private_metadata=json.dumps({"week": week.isoformat()})).to_dict()


def reminder_blocks(name: str, week: date, answered: int, count: int) -> list[Block]:
    return [section(_c("reminder", name=name, answered=answered, count=count)),
            actions(button(_c("walk_button"), Action.CHECKIN_WALK, {"week": week.isoformat()}, style="primary"))]


def checkin_modal(d: DealFacts, q: Questions, playbook: Playbook, *, metadata: dict[str, Any],
                  position: int = 0, count: int = 0, lang: str | None = None) -> dict[str, Any]:
    """The questions for one deal: the stage's checklist, the next marker, open BANT, missing roles, the numbers."""
    lang = lang or i18n.current()  # the language in force unless told
    blocks: list[Block] = [
        section(_c("modal_intro", d=d, position=position, count=count)),
        context(_c("coaching", stage=q.stage, lang=lang)),
    ]
    if q.characteristics:
        blocks.append(checkbox_input(B.CHARACTERISTICS + "__now", _c("characteristics_label", stage=q.stage, lang=lang),
                                     [(c.key, c.text.in_(lang)) for c in q.characteristics],
                                     checked={c.key for c in q.characteristics if c.key in d.characteristics}))
    if q.next_stage is not None:
        blocks.append(checkbox_input(B.NEXT_MARKER, _c("marker_label", stage=q.next_stage, lang=lang),
                                     [("yes", q.next_stage.marker.in_(lang))],
                                     checked={"yes"} if marker_key(q.next_stage.key) in d.characteristics else set()))
    for plan in d.open_plans:  # agreed in the team meeting: "did you do it?"
        blocks.append(select_input(f"{B.PLAN_DONE_PREFIX}{plan.id}", macro("meeting.j2", "plan_done_label", p=plan),
                                   [("yes", _("Yes, done")), ("no", _("No")), ("open", _("Not yet"))], initial="open"))
    for key in q.bant:
        bq = playbook.bant_question(key)
        blocks.append(text_input(f"{B.BANT_PREFIX}{key}", f"{bq.name.in_(lang)}: {bq.question.in_(lang)}",
                                 optional=True, max_length=500, initial=d.bant[key].answer if key in d.bant else None))
    for key in q.roles:
        role = playbook.role(key)
        blocks.append(text_input(f"{B.ROLE_PREFIX}{key}", role.name.in_(lang), optional=True, multiline=role.multiple,
                                 max_length=500, hint=role.description.in_(lang)))
    blocks += [
        text_input(B.AMOUNT, _("Amount"), initial=f"{d.amount:f}", max_length=30),
        select_input(B.CURRENCY, _("Currency"), currency_options(d.currency), initial=d.currency),
        date_input(B.CLOSE_DATE, _("Expected close date"), initial=d.close_date),
        select_input(B.FORECAST, _("Forecast category"), [(k, _(v)) for k, v in FORECASTS], initial=d.forecast),
        text_input(B.NEXT_STEP, _("Next step"), initial=d.next_step, max_length=500),
        date_input(B.NEXT_STEP_DATE, _("Next step by"), initial=d.next_step_date),
        text_input(B.NOTE, _c("note_label"), optional=True, multiline=True, max_length=1000),
    ]
    view = SlackView(type="modal", callback_id=View.CHECKIN, title=clip(_c("modal_title", ref=d.ref), 24),
                     submit=_("Next deal") if metadata.get("walk") and position < count else _("Save"),
                     close=_("Stop here"), blocks=blocks, private_metadata=json.dumps(metadata, separators=(",", ":")))
    return view.to_dict()


def done_view(count: int) -> dict[str, Any]:
    return SlackView(type="modal", callback_id=View.CHECKIN, title=_c("done_title"), close=_("Close"),
                     blocks=[section(_c("done", count=count))]).to_dict()


def advance_offer(d: DealFacts, playbook: Playbook, to: str, lang: str | None = None) -> list[Block]:
    lang = lang or i18n.current()  # the language in force unless told
    return [section(_c("advance_offer", d=d, pb=playbook, to=to, lang=lang)),
            actions(button(_("Advance to %(stage)s") % {"stage": playbook.stage_name(to, lang)}, Action.ADVANCE,
                           {"ref": d.ref, "to": to}, style="primary"))]


def marker_but_missing(d: DealFacts, playbook: Playbook, to: str, lang: str | None = None) -> list[Block]:
    lang = lang or i18n.current()  # the language in force unless told
    missing = missing_labels(d, playbook, lang)
    return [section(_c("marker_but_missing", d=d, pb=playbook, to=to, missing=missing, lang=lang)),
            actions(button(_("Answer what's missing"), Action.ADVANCE, {"ref": d.ref, "to": to}))]


__all__ = ["activity_blocks", "activity_modal", "advance_offer", "checkin_modal", "done_view", "prompt_blocks",
           "reminder_blocks"]
