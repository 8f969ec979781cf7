"""``/pipeline [@person]``: the live roll-up of someone's subtree; ``/pipeline digest``: this week's digest now."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.render.blocks import macro, section
from bot.render.meeting import meeting_blocks
from bot.services import checkins, digests, meeting
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
                settings = work.deps.settings
                work.reply(digests.digest_for(
                    work.session, work.playbook, person, week, now=work.now, quiet_weeks=settings.cadence.quiet_weeks,
                    currency=digests.reporting_currency(person, settings.reporting_currency),
                    signoff_tier=settings.cadence.signoff_tier, forecast_margin=settings.cadence.forecast_margin))
            return
        if text.lower() == "review":
            with work_for(deps, client, body) as work:
                person = work.actor.person
                if not digests.is_manager(work.session, person):
                    raise UserError("not_a_manager")
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
                            command="/pipeline [@person] | digest | review | currency [CODE|default]")
        with work_for(deps, client, body) as work:
            person = work.actor.person
            if user is not None:
                person = person_for_mention(work.session, work.actor, user, SlackDirectory(work.client))
            flows.pipeline(work, person)
