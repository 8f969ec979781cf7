"""Events API: the App Home tab."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.render.home import home_view, not_in_org_view
from bot.render.pipeline_blocks import pipeline_blocks
from bot.services.access import visible_facts
from bot.services.errors import UserError
from bot.services.numbers import scores_by_ref
from bot.services.pipeline import team_pipeline
from bot.slack.work import work_for

log = logging.getLogger("coach.home")


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        user_id = event["user"]
        try:
            with work_for(deps, client, {"user": {"id": user_id}}) as work:
                me = work.actor.person
                mine = visible_facts(work.session, work.actor, [me.id])
                team = []
                if me.tier > 0:
                    t = team_pipeline(work.session, work.actor, me, work.playbook)
                    team = pipeline_blocks(me.name, t.rollup, work.playbook, reports=t.reports,
                                           lang=work.lang)[1:]  # no header
                view = home_view(me.name, mine, work.playbook, team=team, lang=work.lang,
                                 scores=scores_by_ref(mine, work.playbook, now=work.now))
        except UserError:
            view = not_in_org_view()
        client.views_publish(user_id=user_id, view=view)
