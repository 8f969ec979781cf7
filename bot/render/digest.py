"""The manager's weekly digest: totals, team, changes, attention, check-ins, comments from below."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import Block

from bot import i18n
from bot.domain.coaching import label
from bot.domain.coverage import Coverage
from bot.domain.digest import CommentRow, Item, ManagerDigest, Node, ReportRow, ranked
from bot.domain.forecast import QUESTIONS, ForecastCheck, ReviewRow
from bot.domain.gates import Kind
from bot.domain.playbook import Playbook
from bot.domain.tiers import DigestKind, TierView
from bot.domain.waterfall import Attention, Change, Concern, Movement
from bot.i18n import N_, _
from bot.render.blocks import MAX_MESSAGE_BLOCKS, actions, button, divider, header, macro, pack, section
from bot.render.ids import Action
from bot.render.ids import Block as B
from bot.render.ids import View as V
from bot.render.modals import currency_options, modal_view, select_input, text_input

MAX_REPORT_LINES = 25


def _g(name: str, /, **ctx: Any) -> str:
    return macro("digest.j2", name, **ctx)


_MOVES = {
    Change.NEW: N_("new, in %(after)s"), Change.WON: N_("won (was in %(before)s)"),
    Change.LOST: N_("lost in %(before)s"),
    Change.SLIPPED: N_("close date slipped %(before)s → %(after)s"), Change.AMOUNT: N_("amount %(before)s → %(after)s"),
    Change.MOVED_BACK: N_("moved back %(before)s → %(after)s"), Change.ADVANCED: N_("advanced %(before)s → %(after)s"),
}


_AMOUNT = re.compile(r"^(?P<code>[A-Z]{3}) (?P<value>[\d,]+(?:\.\d+)?)$")


def _value(text: str, lang: str) -> str:
    """A movement's old or new value, kept by the domain as written for English (``2027-01-06``,
    ``USD 174,000``), in the reader's form: ``2027年1月6日``, ``US$174,000``."""
    try:
        return i18n.full_day(date.fromisoformat(text), lang)
    except ValueError:
        pass
    if m := _AMOUNT.match(text):
        return i18n.amount(Decimal(m["value"].replace(",", "")), m["code"], lang)
    return text


def _part(p: Movement | Attention, pb: Playbook, lang: str) -> str:
    if isinstance(p, Movement):
        before = pb.stage_name(p.before_key, lang) if p.before_key else _value(p.before, lang)
        after = pb.stage_name(p.after_key, lang) if p.after_key else _value(p.after, lang)
        return _(_MOVES[p.change]) % {"before": before, "after": after}
    stage = pb.stage_name(str(p.fact("stage")), lang) if p.fact("stage") else ""
    match p.concern:
        case Concern.STALLED:
            return _("%(days)s days in %(stage)s (limit %(limit)s)") % {
                "days": p.fact("days"), "stage": stage, "limit": p.fact("limit")}
        case Concern.SLIPPING:
            return _("close date pushed out %(pushes)s times") % {"pushes": p.fact("pushes")}
        case Concern.GAPS:
            gaps = p.fact("missing") or ()
            names = [label(m, pb, lang) if lang != "en" else
                     (f"BANT {m.key}" if m.kind is Kind.BANT else m.key.replace("_", " ")) for m in gaps]  # type: ignore[attr-defined]
            return _("missing %(items)s") % {"items": i18n.enum(names, lang)}
        case Concern.QUIET:
            since = p.fact("since")
            return _("no update for %(weeks)s weeks (since %(since)s)") % {
                "weeks": p.fact("weeks"), "since": i18n.day(since) if isinstance(since, date) else since}
        case Concern.OVERDUE:
            due, step = p.fact("due"), p.fact("next_step")
            when = i18n.day(due) if isinstance(due, date) else due
            if step:
                return _("next step “%(step)s” was due %(due)s") % {"step": step, "due": when}
            return _("next step was due %(due)s") % {"due": when}
        case _:
            amount = p.fact("amount")
            return _("%(amount)s in %(stage)s") % {
                "amount": i18n.amount(amount, str(p.fact("currency"))) if isinstance(amount, Decimal) else amount,
                "stage": stage}


def _item_text(i: Item, playbook: Playbook, lang: str) -> str:
    """A listed deal's movement or flags in the reader's language (``text`` is the English)."""
    return i18n.items((_part(p, playbook, lang) for p in i.parts), lang) if i.parts else i.text


def delta(now: Mapping[str, Decimal], before: Mapping[str, Decimal]) -> str:
    """``+USD 12,000`` / ``−EUR 3,000`` / ``no change``, currency by currency."""
    parts = []
    for c in sorted(set(now) | set(before)):
        d = (now.get(c, Decimal(0)) - before.get(c, Decimal(0))).quantize(Decimal(1))  # a digest reads in units
        if d:
            parts.append(("+" if d > 0 else "−") + i18n.amount(abs(d), c))
    return ", ".join(parts) or _("no change")


def digest_blocks(name: str, week: date, node: Node, playbook: Playbook, *, reports: Sequence[ReportRow],
                  comments: Sequence[CommentRow], not_finished: Sequence[str], away: Sequence[str],
                  names: Mapping[str, str], lang: str | None = None, coverage: Coverage | None = None,
                  can_sign_off: bool = False, check: ForecastCheck | None = None,
                  reviews: Sequence[ReviewRow] = (), tier: TierView | None = None) -> list[Block]:
    """The digest for one manager, whatever the size of their subtree: lists are capped, counts are whole.
    With ``tier``, it opens with what that tier does, and the lines it already gives are not repeated."""
    lang = lang or i18n.current()  # the language in force unless told
    t, last = node.totals, node.last_week
    items = lambda heap: [  # noqa: E731 - owner keys become names for display
        type(i)(i.amount, i.ref, names.get(i.owner, i.owner), _item_text(i, playbook, lang), i.score)
        for i in ranked(heap)
    ]
    blocks: list[Block] = [
        header(_g("header", week=week, name=name)),
        section(_g("totals", t=t, last=last, delta_open=delta(t.open_amount, last.open_amount),
                   delta_weighted=delta(t.weighted, last.weighted))),
        section(_g("stages", t=t, pb=playbook, lang=lang)),
    ]
    if coverage is not None and (tier is None or tier.plan is None):  # a sales plan says it all
        blocks.insert(2, section(_g("coverage", c=coverage)))
    if tier is not None:
        blocks[1:1] = [*_tier_blocks(tier), divider()]
    if check is not None:
        blocks += [divider(), section(_g("forecast_check", c=check))]
        if not check.answered:
            blocks.append(actions(button(_g("review_button"), Action.FORECAST_REVIEW, {"week": check.week.isoformat()},
                                         style="primary")))
    if reviews:
        blocks += [divider(), *pack(_g("reviews", rows=list(reviews)).splitlines())]
    if comments:
        blocks += [divider(), *pack(_g("comments", rows=list(comments)).splitlines())]
    if tier is not None and tier.kind is not DigestKind.FIRST_LINE:
        reports = [r for r in reports if not r.is_manager]  # the tier's section has the managers' lines
    if reports:
        blocks += [divider(), *pack(_g("reports", rows=list(reports[:MAX_REPORT_LINES]),
                                       more=max(len(reports) - MAX_REPORT_LINES, 0)).splitlines())]
    blocks += [divider(), *pack(_g("changes", counts=sorted(node.movements.items()),
                                   items=items(node.top_movements)).splitlines())]
    blocks += [*pack(_g("attention", counts=sorted(node.concerns.items()),
                        items=items(node.top_attention)).splitlines())]
    blocks += [*pack(_g("checkins", counts=sorted(node.checkins.items()), late=list(not_finished[:30]),
                        away=list(away[:30])).splitlines())]
    buttons = [button(_g("comment_button"), Action.DIGEST_COMMENT, {"week": week.isoformat()}, style="primary")]
    if can_sign_off:  # the region head's comment is their sign-off: one click, or their own figure
        buttons = [button(_g("signoff_button"), Action.DIGEST_SIGNOFF, {"week": week.isoformat()}, style="primary"),
                   button(_g("adjust_button"), Action.DIGEST_ADJUST, {"week": week.isoformat()})]
    if tier is None or tier.kind is not DigestKind.TOP:  # the top's comment would have no reader above
        blocks.append(actions(*buttons))
    return blocks[:MAX_MESSAGE_BLOCKS]


def _tier_blocks(tier: TierView) -> list[Block]:
    if tier.kind is DigestKind.FIRST_LINE:
        text = _g("tier_plan", p=tier.plan) if tier.plan is not None else _g("tier_no_plan")
    elif tier.kind is DigestKind.MIDDLE:
        text = _g("tier_teams", teams=list(tier.teams), best=tier.best, weakest=tier.weakest)
    elif tier.region is not None:
        text = _g("tier_region", r=tier.region)
    elif tier.report is not None:
        text = _g("tier_global", g=tier.report)
    else:
        return []
    return list(pack(text.splitlines()))


def manager_digest_blocks(d: ManagerDigest, playbook: Playbook, lang: str | None = None) -> list[Block]:
    """One manager's digest message, in ``lang`` (the recipient's)."""
    lang = lang or i18n.current()  # the language in force unless told
    return digest_blocks(d.name, d.week, d.node, playbook, reports=d.reports, comments=d.comments,
                         not_finished=d.not_finished, away=d.away, names=d.names, coverage=d.coverage,
                         can_sign_off=d.can_sign_off, check=d.check, reviews=d.reviews, tier=d.tier,
                         lang=lang)


def comment_modal(week: date, *, name: str, text: str, commit: Decimal | None,
                  best_case: Decimal | None, currency: str, adjust: bool = False) -> dict[str, Any]:
    """A manager's comment and forecast for the tier above, prefilled with what they said before;
    ``adjust``: a region head's own figure to sign off (认可), the comment saying why."""
    blocks: list[Block] = [
        section(_g("adjust_context" if adjust else "comment_context", week=week, name=name)),
        text_input(B.COMMENT, _g("comment_label"), initial=text, multiline=True, max_length=2000, optional=not adjust),
        text_input(B.COMMIT, _g("commit_label"), initial=f"{commit:f}" if commit is not None else None,
                   optional=not adjust, max_length=30, hint=None if adjust else _g("forecast_hint")),
        text_input(B.BEST_CASE, _g("best_case_label"), initial=f"{best_case:f}" if best_case is not None else None,
                   optional=True, max_length=30),
        select_input(B.CURRENCY, _g("currency_label"), currency_options(currency), initial=currency),
    ]
    meta: dict[str, Any] = {"week": week.isoformat(), **({"adjust": True} if adjust else {})}
    return modal_view(V.DIGEST_COMMENT, _g("adjust_title" if adjust else "comment_title"), blocks, meta,
                      _g("signoff_button" if adjust else "comment_submit"))


def comment_saved(week: date, row: CommentRow) -> list[Block]:
    """The reply to a saved comment; a region head's is their sign-off (认可) of their own figure."""
    return [section(_g("adjusted_signed" if row.signed_off else "comment_saved", week=week, c=row))]


def review_modal(check: ForecastCheck) -> dict[str, Any]:
    """The source's four questions, when forecast and actual differ."""
    blocks: list[Block] = [section(_g("forecast_check", c=check))]
    blocks += [text_input(f"{B.REVIEW_PREFIX}{q}", _g("question", q=q), multiline=True, max_length=1000, optional=True)
               for q in QUESTIONS]
    return modal_view(V.FORECAST_REVIEW, _g("review_title"), blocks, {"week": check.week.isoformat()},
                      _g("comment_submit"))
