"""``/pipeline [@person]``: the live roll-up of someone's subtree; ``/pipeline digest``: this week's digest now."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.render.digest import manager_digest_blocks
from bot.render.pipeline_blocks import pipeline_blocks
from bot.services import digests
from bot.services.access import person_for_mention
from bot.services.errors import UserError
from bot.services.pipeline import team_pipeline
from bot.slack.work import work_for
from handlers.base import guarded
from handlers.parse import mentioned_user


def register(app: App, deps: Deps) -> None:
    @app.command("/pipeline")
    @guarded
    def pipeline_command(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        text = (body.get("text") or "").strip()
        if text.lower() == "digest":
            with work_for(deps, client, body) as work:
                digest = digests.digest_for(work.session, work.playbook, work.actor.person, now=work.now)
                work.reply(manager_digest_blocks(digest, work.playbook, lang=work.lang))
            return
        user = mentioned_user(text)
        if text and not user:
            raise UserError("usage", command="/pipeline [@person] | /pipeline digest", example="/pipeline @maria")
        with work_for(deps, client, body) as work:
            person = work.actor.person
            if user is not None:
                person = person_for_mention(work.session, work.actor, user, work.directory)
            t = team_pipeline(work.session, work.actor, person, work.playbook)
            whose = person.name + (" and team" if t.reports else "")
            work.reply(pipeline_blocks(whose, t.rollup, work.playbook, reports=t.reports, lang=work.lang))
