"""``/pipeline [@person]``: the live roll-up of someone's subtree; ``/pipeline digest``: this week's digest now."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.services import checkins, digests
from bot.services.errors import UserError
from bot.services.workspace import person_for_mention
from handlers import flows
from handlers.base import SlackDirectory, guarded, work_for
from handlers.commands.parse import mentioned_user


def register(app: App, deps: Deps) -> None:
    @app.command("/pipeline")
    @guarded
    def pipeline_command(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        text = (body.get("text") or "").strip()
        if text.lower() == "digest":
            with work_for(deps, client, body) as work:
                person = work.actor.person
                if not digests.is_manager(work.session, person):
                    raise UserError("not_a_manager")
                week = checkins.current_week(person, work.now)
                work.reply(digests.digest_for(work.session, work.playbook, person, week, now=work.now,
                                              quiet_weeks=work.deps.settings.cadence.quiet_weeks))
            return
        user = mentioned_user(text)
        if text and not user:
            raise UserError("usage", command="/pipeline [@person] | /pipeline digest", example="/pipeline @maria")
        with work_for(deps, client, body) as work:
            person = work.actor.person
            if user is not None:
                person = person_for_mention(work.session, work.actor, user, SlackDirectory(work.client))
            flows.pipeline(work, person)
