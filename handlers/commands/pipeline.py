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
from bot.render.ids import Action, Block, View
from bot.services import charts, checkins, digests, numbers, targets
from bot.services.errors import UserError
from bot.services.workspace import person_for_mention
from bot.uploads import share_files
from handlers import flows
from handlers.base import SlackDirectory, Work, button_value, guarded, user_id_of, work_for
from handlers.commands.parse import TargetArgs, mentioned_user, parse, target_args
from handlers.forms import Form

PLAN_USAGE = {"command": "/pipeline plan [@person] [TARGET]", "example": "/pipeline plan @maria 120000"}
TARGET_USAGE = {"command": "/pipeline target @person AMOUNT [PERIOD] [CURRENCY]",
                "example": "/pipeline target @maria 120000 2026-12 EUR"}


def register(app: App, deps: Deps) -> None:
    @app.command("/pipeline")
    @guarded
    def pipeline_command(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
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
                person = work.actor.person
                if not digests.is_manager(work.session, person):
                    raise UserError("not_a_manager")
                week = checkins.current_week(person, work.now)
                work.reply(digests.digest_for(work.session, work.playbook, person, week, now=work.now))
            return
        user = mentioned_user(text)
        if text and not user:
            raise UserError("usage", command="/pipeline [@person] | /pipeline digest | /pipeline plan | "
                            "/pipeline target", example="/pipeline @maria")
        with work_for(deps, client, body) as work:
            person = work.actor.person
            if user is not None:
                person = person_for_mention(work.session, work.actor, user, SlackDirectory(work.client))
            flows.pipeline(work, person)
            shown = _charts(work, person, ("funnel", "waterfall"))
        _share(client, body, shown)


    @app.action(Action.SET_TARGETS)
    @guarded
    def set_targets_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with work_for(deps, client, body) as work:
            manager = work.actor.person
            if not work.actor.is_manager:
                raise UserError("not_a_manager")
            period = str(button_value(body).get("period") or numbers.current_period(manager, work.now).label)
            day = _day_in(period, work)
            client.views_open(trigger_id=body["trigger_id"], view=numbers_render.team_targets_modal(
                targets.team_targets(work.session, manager, day), period=period,
                currency=targets.usual_currency(work.session, manager)))

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


def _plan(work: Work, args: TargetArgs) -> tuple[str, list[charts.ChartFile]]:
    person = work.actor.person
    if args.user is not None:
        person = person_for_mention(work.session, work.actor, args.user, SlackDirectory(work.client))
    n = numbers.numbers_for(work.session, work.playbook, person, now=work.now, target=args.amount)
    work.reply(numbers_render.plan_blocks(n, work.playbook, lang=work.lang))
    return _charts(work, person, ("activity",), n)


def _charts(work: Work, person: Any, kinds: tuple[str, ...], n: numbers.Numbers | None = None
            ) -> tuple[str, list[charts.ChartFile]]:
    """The charts for what was just shown, and the comment to share them with."""
    week = checkins.current_week(person, work.now)
    files = charts.person_charts(work.session, work.playbook, person, now=work.now, week=week, kinds=kinds,
                                 numbers=n, tag=f"{person.id}-{work.now:%Y%m%d%H%M%S}")
    return macro("numbers.j2", "pipeline_charts_comment", name=person.name), files


def _share(client: WebClient, body: dict[str, Any], shown: tuple[str, list[charts.ChartFile]] | None) -> None:
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
        period = next((r.target.period for r in rows if r.target), numbers.current_period(manager, work.now).label)
        work.reply(numbers_render.team_targets_blocks(rows, period=period, usage=TARGET_USAGE))
        return
    person = person_for_mention(work.session, work.actor, args.user, SlackDirectory(work.client))
    if args.amount is None:
        raise UserError("usage", **TARGET_USAGE)
    if not work.actor.can_override(person):
        raise UserError("target_forbidden", name=person.name)
    period = args.period or numbers.current_period(person, work.now)
    currency = args.currency or targets.usual_currency(work.session, person)
    targets.set_target(work.session, person, period, args.amount, currency, by=manager, now=work.now)
    work.reply(numbers_render.target_set_blocks(person.name, period.label, args.amount, currency))
