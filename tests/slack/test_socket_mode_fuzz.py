"""The HTTP fuzz's properties over Socket Mode: envelopes drawn by hypothesis, sent over the fake
Slack's websocket to the app as ``coach serve --socket-mode`` runs it.

For every example: the envelope is acknowledged (Slack retries, or shows the person an error, when
it is not), the socket client stays connected, nothing the app says is the apology for an internal
error, nothing is logged with a traceback, and a refused form leaves the database as it was. Besides
what people type and click, the envelope's payload itself is junk sometimes (a list, a string,
``actions`` a string, ``view`` a string): Slack would never send it, but one must not stop the client.

``FUZZ_EXAMPLES`` sets the examples per property here too (a third of the HTTP fuzz's: an envelope
costs about as much as a request, and the properties are the same).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.demo.workspace import IdleExecutor
from bot.render.ids import Action, View
from bot.slack.socket_mode import socket_mode_handler
from tests.slack.test_fuzz import (
    BUTTON_VALUES,
    COMMANDS,
    EXAMPLES,
    INTERNAL,
    JSONISH,
    METADATA,
    PEOPLE,
    STATES,
    _said,
    _snapshot,
)

APP_TOKEN = "xapp-1-test"
SOCKET_EXAMPLES = max(10, EXAMPLES // 3)
FUZZ = settings(max_examples=SOCKET_EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def socket(coach) -> Iterator:
    executor = IdleExecutor()  # the work after each ack runs here, so a test can wait for it
    handler = socket_mode_handler(create_app(coach.deps, listener_executor=executor), APP_TOKEN)
    handler.connect()
    coach.fake.socket_mode.wait_connected()
    handler.wait_idle = executor.wait_idle
    try:
        yield handler
    finally:
        handler.close()
        executor.shutdown(wait=False)


def _send(coach, socket, caplog, kind: str, payload: object, what: object) -> tuple[dict, list]:
    n = len(coach.fake.calls)
    ack = coach.fake.socket_mode.send_envelope(kind, payload, timeout=5)  # type: ignore[arg-type]
    socket.wait_idle(10)
    calls = coach.fake.calls[n:]
    assert "envelope_id" in ack, (what, ack)
    assert socket.client.is_connected(), (what, "the socket client went away")
    assert INTERNAL not in _said(calls), (what, _said(calls)[:500])
    bad = [r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not bad, (what, bad)
    return ack, calls


def test_fuzzed_slash_commands_over_socket_mode(coach, socket, caplog):
    caplog.set_level(logging.INFO)
    ids = [coach.uid(p) for p in PEOPLE]

    @FUZZ
    @given(COMMANDS, st.sampled_from(ids))
    def run(command, user):
        name, text = command
        url = coach.fake.response_url()
        _, calls = _send(coach, socket, caplog, "slash_commands", {
            "command": name, "text": text, "user_id": user, "channel_id": "C0GENERAL", "response_url": url,
            "trigger_id": "1.sm", "team_id": "T0TEAM", "api_app_id": "A0APP"}, command)
        answered.append(any(c.params.get("response_url") == url or c.method == "views.open" for c in calls))

    answered: list[bool] = []
    run()
    assert sum(answered) >= 0.9 * len(answered)  # the envelopes reached the listeners and were answered


def test_fuzzed_button_values_over_socket_mode(coach, socket, caplog):
    caplog.set_level(logging.INFO)
    ids = [coach.uid(p) for p in PEOPLE]

    @FUZZ
    @given(st.sampled_from([a.value for a in Action] + [f"{Action.PAGE}_next", f"{Action.CHECKIN_PAGE}_2",
                                                         "no_such_action"]),
           BUTTON_VALUES, st.sampled_from(ids))
    def run(action, value, user):
        _, calls = _send(coach, socket, caplog, "interactive", {
            "type": "block_actions", "team": {"id": "T0TEAM"}, "user": {"id": user}, "api_app_id": "A0APP",
            "trigger_id": "1.sm", "channel": {"id": "C0GENERAL"}, "response_url": coach.fake.response_url(),
            "container": {"type": "message", "channel_id": "C0GENERAL", "message_ts": "0"},
            "actions": [{"type": "button", "action_id": action, "block_id": "b", "value": value,
                         "action_ts": "1"}]}, (action, value))
        answered.append(bool(calls))

    answered: list[bool] = []
    run()
    assert sum(answered) >= 0.5 * len(answered)  # most clicks reach a listener that answers


def test_fuzzed_form_submissions_over_socket_mode_change_nothing_they_refuse(coach, socket, caplog):
    caplog.set_level(logging.INFO)
    ids = [coach.uid(p) for p in PEOPLE]

    @FUZZ
    @given(st.sampled_from([v.value for v in View]), STATES, METADATA, st.sampled_from(ids))
    def run(callback_id, values, metadata, user):
        before = _snapshot(coach)
        view = {"id": "V0", "type": "modal", "callback_id": callback_id, "private_metadata": metadata,
                "state": {"values": values}, "blocks": []}
        ack, _ = _send(coach, socket, caplog, "interactive", {
            "type": "view_submission", "team": {"id": "T0TEAM"}, "user": {"id": user}, "api_app_id": "A0APP",
            "trigger_id": "1.sm", "view": view}, (callback_id, values, metadata))
        if (ack.get("payload") or {}).get("response_action") == "errors":
            assert _snapshot(coach) == before, (callback_id, values, metadata)
            refused.append(True)
        else:
            refused.append(False)

    refused: list[bool] = []
    run()
    assert 0 < sum(refused) < len(refused)  # some refused inline, some went through to the listeners


JUNK_FIELDS = st.sampled_from(["actions", "view", "user", "team", "state", "type", "container", "channel",
                               "response_url", "trigger_id"])


def test_junk_envelopes_are_acked_and_the_client_stays(coach, socket, caplog):
    """Payloads Slack never sends: the whole payload, or one of its fields, of the wrong shape."""
    caplog.set_level(logging.INFO)
    tommy = coach.uid(PEOPLE[0])
    click = {"type": "block_actions", "team": {"id": "T0TEAM"}, "user": {"id": tommy}, "api_app_id": "A0APP",
             "trigger_id": "1.sm", "actions": [{"type": "button", "action_id": Action.UPDATE, "value": "{}"}]}
    submit = {"type": "view_submission", "team": {"id": "T0TEAM"}, "user": {"id": tommy}, "api_app_id": "A0APP",
              "view": {"type": "modal", "callback_id": View.UPDATE_DEAL, "state": {"values": {}}}}

    @FUZZ
    @given(st.sampled_from(["interactive", "slash_commands", "events_api"]),
           st.one_of(JSONISH, st.tuples(st.sampled_from([click, submit]), JUNK_FIELDS, JSONISH)))
    def run(kind, junk):
        before = _snapshot(coach)
        payload = junk
        if isinstance(junk, tuple):
            base, field, value = junk
            payload = {**base, field: value}
        _send(coach, socket, caplog, kind, payload, (kind, payload))
        assert _snapshot(coach) == before, (kind, payload)

    run()
    # And the client still works: a real command after the junk is answered.
    url = coach.fake.response_url()
    coach.fake.socket_mode.send_envelope("slash_commands", {
        "command": "/deal", "text": "show D-3", "user_id": tommy, "channel_id": "C0GENERAL", "response_url": url,
        "trigger_id": "2.sm", "team_id": "T0TEAM", "api_app_id": "A0APP"})
    socket.wait_idle(10)
    assert "D-3" in json.dumps([c.params for c in coach.fake.calls if c.params.get("response_url") == url])
