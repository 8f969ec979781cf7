"""The digest's button: a manager's comment and forecast, carried into their manager's digest."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.render import digest as render
from bot.render.blocks import macro
from bot.render.ids import Action, Block, View
from bot.services import digests
from bot.slack.payload import button_value, metadata_of, week_value
from bot.slack.work import work_for
from handlers.base import acked, guarded
from handlers.forms import Form


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

    @app.view(View.DIGEST_COMMENT)
    @guarded
    def comment_submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        week = week_value(metadata_of(body).get("week"))
        form = Form(body["view"])
        text = form.text(Block.COMMENT)
        commit = form.amount(Block.COMMIT) if form.text(Block.COMMIT) else None
        best = form.amount(Block.BEST_CASE) if form.text(Block.BEST_CASE) else None
        currency = form.currency(Block.CURRENCY)
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
            saved = digests.save_comment(work.session, person, week, text=text, commit=commit, best_case=best,
                                         currency=currency, now=work.now)
            work.reply(render.comment_saved(week, render.CommentRow(
                person.name, saved.text, saved.commit_amount, saved.best_case_amount, saved.currency or "")))
        ack()
