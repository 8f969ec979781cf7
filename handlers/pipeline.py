"""``/pipeline [@person]``: the live roll-up of someone's subtree; ``/pipeline digest``: this week's digest now;
``/pipeline plan [@person] [TARGET]``: the activity plan; ``/pipeline target @person AMOUNT [PERIOD] [CURRENCY]``."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.domain.plan import parse_period
from bot.render import numbers as numbers_render
from bot.render.blocks import macro, section
from bot.render.charts import ChartFile, drawn
from bot.render.digest import manager_digest_blocks
from bot.render.ids import Action, Block, View
from bot.render.meeting import meeting_blocks
from bot.render.pipeline_blocks import pipeline_blocks
from bot.services import charts, digests, meeting, numbers, targets
from bot.services.access import person_for_mention
from bot.services.errors import UserError
from bot.services.local_time import current_week
from bot.services.pipeline import team_pipeline
from bot.slack.payload import button_value, user_id_of
from bot.slack.uploads import share_files
from bot.slack.work import Work, work_for
from handlers.base import acked, guarded
from handlers.forms import Form
from handlers.parse import TargetArgs, mentioned_user, parse, target_args

PLAN_USAGE = {"command": "/pipeline plan [@person] [TARGET]", "example": "/pipeline plan @maria 120000"}
TARGET_USAGE = {"command": "/pipeline target @person AMOUNT [PERIOD] [CURRENCY]",
                "example": "/pipeline target @maria 120000 2026-12 EUR"}


def register(app: App, deps: Deps) -> None:
    @app.command("/pipeline")
    @acked
    def pipeline_command(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        text = (body.get("text") or "").strip()
        cmd = parse(text)
        if cmd.verb in ("plan", "target"):
            args = _args(cmd.rest, PLAN_USAGE if cmd.verb == "plan" else TARGET_USAGE)
            with work_for(deps, client, body) as work:
                shown = (_plan if cmd.verb == "plan" else _target)(work, args)
            _share(client, body, shown)
            return
        if text.lower() == "digest":
            with work_for(deps, client, body) as work:
                person, settings = work.actor.person, work.deps.settings
                digest = digests.digest_for(
                    work.session, work.playbook, person, now=work.now, quiet_weeks=settings.cadence.quiet_weeks,
                    currency=digests.reporting_currency(person, settings.reporting_currency),
                    signoff_tier=settings.cadence.signoff_tier, forecast_margin=settings.cadence.forecast_margin)
                work.reply(manager_digest_blocks(digest, work.playbook, lang=work.lang))
            return
        if text.lower() == "review":
            with work_for(deps, client, body) as work:
                person = work.actor.person
                digests.require_manager(work.session, person)
                rows, count = meeting.team_meeting(
                    work.session, work.actor, person, work.playbook, now=work.now,
                    currency=digests.reporting_currency(person, work.deps.settings.reporting_currency))
                work.reply(meeting_blocks(person.name, rows, count, work.playbook, lang=work.lang))
            return
        if text.lower().split()[:1] == ["currency"]:
            words = text.split()[1:]
            with work_for(deps, client, body) as work:
                person, default = work.actor.person, work.deps.settings.reporting_currency
                if words:
                    code = None if words[0].lower() == "default" else words[0]
                    digests.set_reporting_currency(person, code, now=work.now)
                work.reply([section(macro("digest.j2", "currency_set" if words else "currency_is",
                                          code=digests.reporting_currency(person, default), default=default,
                                          own=person.reporting_currency is not None))])
            return
        user = mentioned_user(text)
        if text and not user:
            raise UserError("usage", example="/pipeline @maria",
                            command="/pipeline [@person] | digest | review | plan | target | currency [CODE|default]")
        with work_for(deps, client, body) as work:
            person = work.actor.person
            if user is not None:
                person = person_for_mention(work.session, work.actor, user, work.directory)
            t = team_pipeline(work.session, work.actor, person, work.playbook)
            whose = person.name + (" and team" if t.reports else "")
            work.reply(pipeline_blocks(whose, t.rollup, work.playbook, reports=t.reports, lang=work.lang))
            shown = _charts(work, person, ("funnel", "waterfall"))
        _share(client, body, shown)


    @app.action(Action.SET_TARGETS)
    @acked
    def set_targets_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        with work_for(deps, client, body) as work:
            manager = work.actor.person
            if not work.actor.is_manager:
                raise UserError("not_a_manager")
            period = str(button_value(body).get("period") or numbers.current_period(manager, work.now).label)
            day = _day_in(period, work)
            client.views_open(trigger_id=body["trigger_id"], view=numbers_render.team_targets_modal(
                targets.team_targets(work.session, manager, day), period=period,
                currency=digests.usual_currency(work.session, manager)))

    @app.view(View.TEAM_TARGETS)
    @guarded
    def targets_submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        form = Form(body["view"])
        raw = form.required_text(Block.PERIOD)
        try:
            period = parse_period(raw) if raw else None
        except ValueError:
            form.error(Block.PERIOD, "bad_period", value=raw)
            period = None
        currency = form.currency(Block.CURRENCY)
        amounts = {int(b.removeprefix(Block.TARGET_PREFIX)): form.amount(b)
                   for b in form.blocks_starting(Block.TARGET_PREFIX) if form.text(b)}
        if form.errors or period is None or currency is None:
            ack(response_action="errors", errors=form.errors)
            return
        ack()
        with work_for(deps, client, body) as work:
            count = targets.set_team_targets(work.session, work.actor.person, period, currency,
                                             {k: v for k, v in amounts.items() if v is not None}, now=work.now)
            work.reply([section(macro("numbers.j2", "targets_saved", count=count, period=period.label))])


def _day_in(period: str, work: Work) -> date:
    """A day in ``period`` (today when it contains today), for looking up the targets set for it."""
    try:
        p = parse_period(period)
    except ValueError as e:
        raise UserError("stale_view") from e
    today = work.now.date()
    return today if p.contains(today) else p.start


def _args(rest: str, usage: dict[str, str]) -> TargetArgs:
    try:
        return target_args(rest)
    except ValueError as e:
        raise UserError("usage", **usage) from e


def _plan(work: Work, args: TargetArgs) -> tuple[str, list[ChartFile]]:
    person = work.actor.person
    if args.user is not None:
        person = person_for_mention(work.session, work.actor, args.user, work.directory)
    n = numbers.numbers_for(work.session, work.playbook, person, now=work.now, target=args.amount)
    work.reply(numbers_render.plan_blocks(n, work.playbook, lang=work.lang))
    return _charts(work, person, ("activity",), n)


def _charts(work: Work, person: Any, kinds: tuple[str, ...], n: numbers.Numbers | None = None
            ) -> tuple[str, list[ChartFile]]:
    """The charts for what was just shown, and the comment to share them with."""
    week = current_week(person, work.now)
    files = drawn(charts.person_charts(work.session, work.playbook, person, now=work.now, week=week, kinds=kinds,
                                       numbers=n, tag=f"{person.id}-{work.now:%Y%m%d%H%M%S}"))
    return macro("numbers.j2", "pipeline_charts_comment", name=person.name), files


def _share(client: WebClient, body: dict[str, Any], shown: tuple[str, list[ChartFile]] | None) -> None:
    """After the reply: the charts in the asker's DM with the bot (a reply to a slash command
    cannot carry files)."""
    if shown and shown[1]:
        share_files(client, user_id_of(body), shown[1], comment=shown[0])


def _target(work: Work, args: TargetArgs) -> None:
    manager = work.actor.person
    if args.user is None:
        if not work.actor.is_manager:
            raise UserError("not_a_manager")
        rows = targets.team_targets(work.session, manager, work.now.date())
        # The form opens on the period the team's targets are set for (else this month).
        shown = next((r.target.period for r in rows if r.target), numbers.current_period(manager, work.now).label)
        work.reply(numbers_render.team_targets_blocks(rows, period=shown, usage=TARGET_USAGE))
        return
    person = person_for_mention(work.session, work.actor, args.user, work.directory)
    if args.amount is None:
        raise UserError("usage", **TARGET_USAGE)
    if not work.actor.can_override(person):
        raise UserError("target_forbidden", name=person.name)
    period = args.period or numbers.current_period(person, work.now)
    currency = args.currency or digests.usual_currency(work.session, person)
    targets.set_target(work.session, person, period, args.amount, currency, by=manager, now=work.now)
    work.reply(numbers_render.target_set_blocks(person.name, period.label, args.amount, currency))
