"""The digest's button: a manager's comment and forecast, carried into their manager's digest."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.domain.digest import CommentRow
from bot.domain.forecast import QUESTIONS, ForecastCheck
from bot.render import digest as render
from bot.render.blocks import macro, section
from bot.render.ids import Action, Block, View
from bot.services import digests
from bot.services.errors import UserError
from bot.slack.payload import button_value, metadata_of, week_value
from bot.slack.work import Work, work_for
from handlers.base import acked, guarded
from handlers.forms import Form


def _check(work: Work, period: date) -> ForecastCheck:
    """The forecast-against-actual check of ``period`` for the acting manager; UserError if there is none now."""
    person = work.actor.person
    digests.require_manager(work.session, person)
    check = digests.forecast_check(work.session, work.playbook, person, period + timedelta(weeks=1), now=work.now,
                                   margin=work.deps.settings.cadence.forecast_margin)
    if check is None:
        raise UserError("stale_view")
    return check


def _require_region_head(work: Work) -> None:
    """Signing off (认可) a forecast is for region heads: UserError for anyone else."""
    person = work.actor.person
    digests.require_manager(work.session, person)
    tier = work.deps.settings.cadence.signoff_tier
    if person.tier < tier:
        raise UserError("not_a_region_head", tier=tier)


def register(app: App, deps: Deps) -> None:
    @app.action(Action.DIGEST_COMMENT)
    @acked
    def comment_button(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        week = week_value(button_value(body).get("week"))
        with work_for(deps, client, body) as work:
            person = work.actor.person
            digests.require_manager(work.session, person)
            old = digests.comment_of(work.session, person, week)
            view = render.comment_modal(
                week, name=person.name, text=old.text if old else "",
                commit=old.commit_amount if old else None, best_case=old.best_case_amount if old else None,
                currency=(old.currency if old and old.currency else digests.usual_currency(work.session, person)))
            client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(Action.DIGEST_ADJUST)
    @acked
    def adjust_button(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        week = week_value(button_value(body).get("week"))
        with work_for(deps, client, body) as work:
            _require_region_head(work)
            person = work.actor.person
            old = digests.comment_of(work.session, person, week)
            if old is not None and old.signed_off_at is not None and old.currency:
                commit, best, currency = old.commit_amount, old.best_case_amount, old.currency
            else:  # the figure as rolled up, to adjust from
                settings = work.deps.settings
                try:
                    rolled = digests.rolled_forecast(
                        work.session, work.playbook, person, week, now=work.now,
                        currency=digests.reporting_currency(person, settings.reporting_currency),
                        quiet_weeks=settings.cadence.quiet_weeks)
                    commit, best, currency = rolled.commit, rolled.best_case, rolled.currency
                except UserError:  # several currencies and no rates: they give the figure themselves
                    commit, best, currency = None, None, digests.usual_currency(work.session, person)
            view = render.comment_modal(week, name=person.name, text=old.text if old else "", commit=commit,
                                        best_case=best, currency=currency, adjust=True)
            client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(View.DIGEST_COMMENT)
    @guarded
    def comment_submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        meta = metadata_of(body)
        week, adjust = week_value(meta.get("week")), bool(meta.get("adjust"))
        form = Form(body["view"])
        text = form.text(Block.COMMENT)
        commit = form.amount(Block.COMMIT) if form.text(Block.COMMIT) else None
        best = form.amount(Block.BEST_CASE) if form.text(Block.BEST_CASE) else None
        currency = form.currency(Block.CURRENCY)
        if not form.errors and adjust:  # an adjusted figure is signed off with the reason for it
            if not text:
                form.errors[Block.COMMENT] = macro("digest.j2", "adjust_needs_comment")
            if commit is None:
                form.errors[Block.COMMIT] = macro("digest.j2", "adjust_needs_commit")
        if not form.errors:
            if not text and commit is None and best is None:
                form.errors[Block.COMMENT] = macro("digest.j2", "comment_needs_something")
            elif commit is not None and best is not None and best < commit:
                form.errors[Block.BEST_CASE] = macro("digest.j2", "best_below_commit")
        if form.errors:
            ack(response_action="errors", errors=form.errors)
            return
        with work_for(deps, client, body) as work:
            person = work.actor.person
            digests.require_manager(work.session, person)
            # A region head's figure is their sign-off (认可), adjusted.
            signs = person.tier >= work.deps.settings.cadence.signoff_tier and person.manager_id is not None
            saved = digests.save_comment(work.session, person, week, text=text, commit=commit, best_case=best,
                                         currency=currency, now=work.now, signed_off=signs)
            work.reply(render.comment_saved(week, CommentRow(
                person.name, saved.text, saved.commit_amount, saved.best_case_amount, saved.currency or "",
                saved.signed_off_at is not None)))
        ack()

    @app.action(Action.FORECAST_REVIEW)
    @acked
    def review_button(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        period = week_value(button_value(body).get("week"))
        with work_for(deps, client, body) as work:
            check = _check(work, period)
            client.views_open(trigger_id=body["trigger_id"], view=render.review_modal(check))

    @app.view(View.FORECAST_REVIEW)
    @guarded
    def review_submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        period = week_value(metadata_of(body).get("week"))
        form = Form(body["view"])
        answers = {q: form.text(f"{Block.REVIEW_PREFIX}{q}") for q in QUESTIONS}
        if not any(answers.values()):
            ack(response_action="errors", errors={f"{Block.REVIEW_PREFIX}{QUESTIONS[0]}":
                                                  macro("digest.j2", "review_needs_something")})
            return
        with work_for(deps, client, body) as work:
            digests.save_forecast_review(work.session, work.actor.person, _check(work, period), answers, now=work.now)
            work.reply([section(macro("digest.j2", "review_saved"))])
        ack()

    @app.action(Action.DIGEST_SIGNOFF)
    @acked
    def signoff_button(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        week = week_value(button_value(body).get("week"))
        with work_for(deps, client, body) as work:
            _require_region_head(work)
            person = work.actor.person
            settings = work.deps.settings
            done = digests.sign_off(work.session, work.playbook, person, week, now=work.now,
                                    currency=digests.reporting_currency(person, settings.reporting_currency),
                                    quiet_weeks=settings.cadence.quiet_weeks)
            work.reply([section(macro("digest.j2", "signed_off", week=week, s=done))])
