"""The same app over Socket Mode: envelopes in over a websocket, acks back, work done."""

from __future__ import annotations

import sqlalchemy as sa

from bot.app import create_app
from bot.db.engine import transaction
from bot.db.models import Deal
from bot.slack.socket_mode import socket_mode_handler
from tests.slack.harness import all_text, wait_call, wait_reply

APP_TOKEN = "xapp-1-test"


def test_commands_and_forms_work_over_socket_mode(coach):
    app = create_app(coach.deps)
    handler = socket_mode_handler(app, APP_TOKEN)  # as `coach serve --socket-mode` builds it
    handler.connect()
    sm = coach.fake.socket_mode
    try:
        sm.wait_connected()
        tommy = coach.uid("tommy.flowers@example.com")
        url = coach.fake.response_url()
        ack = sm.send_envelope("slash_commands", {
            "command": "/deal", "text": "show D-3", "user_id": tommy, "channel_id": "C0GENERAL",
            "response_url": url, "trigger_id": "1.sm", "team_id": "T0TEAM", "api_app_id": "A0APP",
        })
        assert "envelope_id" in ack
        assert "*D-3* Woodgrove Bank Data platform" in all_text(wait_reply(coach.fake, url)["blocks"])

        url = coach.fake.response_url()
        sm.send_envelope("slash_commands", {
            "command": "/deal", "text": "lost D-3 budget frozen", "user_id": tommy, "channel_id": "C0GENERAL",
            "response_url": url, "trigger_id": "2.sm", "team_id": "T0TEAM", "api_app_id": "A0APP",
        })
        assert "to *Lost*" in all_text(wait_reply(coach.fake, url)["blocks"])
        with transaction(coach.deps.sessions) as s:
            assert s.scalar(sa.select(Deal.stage).where(Deal.ref == "D-3")) == "lost"

        sm.send_envelope("events_api", {
            "type": "event_callback", "team_id": "T0TEAM", "api_app_id": "A0APP", "event_id": "EvSM1",
            "event": {"type": "app_home_opened", "user": tommy, "tab": "home"},
        })
        assert "Pipeline Coach · Tommy Flowers" in all_text(wait_call(coach.fake, "views.publish").params["view"]["blocks"])
    finally:
        handler.close()
