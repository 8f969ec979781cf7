"""The fake Slack answers slack_sdk and Bolt like Slack does, over real HTTP and websockets."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from bot.fakeslack import FakeSlack

TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(expected_token=TOKEN, app_token=APP_TOKEN) as fake:
        fake.add_user("U001", email="ada@example.com", name="ada", real_name="Ada Lovelace", tz="Europe/London")
        fake.add_user("U002", email="Tim@Example.com", name="tim", tz="America/New_York")
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.base_url)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(title: str = "Edit deal", blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "modal", "callback_id": "edit", "title": {"type": "plain_text", "text": title},
            "blocks": [section("hi")] if blocks is None else blocks}


def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


def post_json(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


# -- Web API round trips ---------------------------------------------------------------------------

def test_base_url_is_a_local_api_root(fake: FakeSlack):
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/api/"


def test_auth_test_records_the_call_with_its_bearer_token(fake: FakeSlack, client: WebClient):
    answer = client.auth_test()
    assert answer["team_id"] == FakeSlack.TEAM_ID and answer["user_id"] == FakeSlack.BOT_USER_ID
    assert answer["bot_id"] == FakeSlack.BOT_ID
    (call,) = fake.calls
    assert (call.method, call.status, call.ok) == ("auth.test", 200, True)
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.at <= time.monotonic()


def test_users_info_has_timezone_offset_and_email(client: WebClient):
    user = client.users_info(user="U002")["user"]
    assert user["id"] == "U002" and user["tz"] == "America/New_York"
    assert user["tz_offset"] in (-5 * 3600, -4 * 3600)  # EST or EDT
    assert user["profile"]["email"] == "Tim@Example.com"
    assert user["real_name"] == "tim"  # defaults to the name
    assert client.users_info(user="U001")["user"]["real_name"] == "Ada Lovelace"
    assert api_error(lambda: client.users_info(user="U404")).response["error"] == "user_not_found"


def test_lookup_by_email_ignores_case_and_reports_unknown(client: WebClient):
    assert client.users_lookupByEmail(email="tim@example.com")["user"]["id"] == "U002"
    error = api_error(lambda: client.users_lookupByEmail(email="nobody@example.com"))
    assert error.response["error"] == "users_not_found"


def test_conversations_open_gives_a_stable_dm_channel(client: WebClient):
    first = client.conversations_open(users="U001")["channel"]["id"]
    assert first == client.conversations_open(users=["U001"])["channel"]["id"] == "DU001"
    assert api_error(lambda: client.conversations_open(users="U404")).response["error"] == "user_not_found"


def test_post_message_to_a_user_lands_in_their_dm(fake: FakeSlack, client: WebClient):
    first = client.chat_postMessage(channel="U001", text="hello", blocks=[section("*hello*")])
    second = client.chat_postMessage(channel="DU001", text="again")
    client.chat_postMessage(channel="C0GENERAL", text="to all")
    assert first["channel"] == second["channel"] == "DU001"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == [section("*hello*")] and first["message"]["text"] == "hello"
    assert [c.params["text"] for c in fake.messages("U001")] == ["hello", "again"]
    assert [c.params["text"] for c in fake.messages("DU001")] == ["hello", "again"]
    assert [c.params["text"] for c in fake.messages()] == ["hello", "again", "to all"]
    assert fake.messages("C0GENERAL")[0].params["channel"] == "C0GENERAL"


def test_post_message_needs_channel_and_content(fake: FakeSlack, client: WebClient):
    with pytest.warns(UserWarning):  # slack_sdk warns about the missing text itself
        assert api_error(lambda: client.chat_postMessage(channel="C1")).response["error"] == "no_text"
    assert api_error(lambda: client.chat_postMessage(channel="U404", text="x")).response["error"] == "channel_not_found"
    assert fake.messages() == []
    assert [c.error for c in fake.rejected()] == ["no_text", "channel_not_found"]


def test_form_encoded_calls_have_json_fields_decoded(fake: FakeSlack, client: WebClient):
    blocks = [section("from a form")]
    client.api_call("chat.postMessage", params={"channel": "C1", "blocks": json.dumps(blocks), "token": TOKEN})
    (call,) = fake.calls_to("chat.postMessage")
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert call.params["blocks"] == blocks


def test_token_may_come_in_the_form_body(fake: FakeSlack):
    req = urllib.request.Request(fake.base_url + "auth.test", data=f"token={TOKEN}".encode())
    with urllib.request.urlopen(req, timeout=5) as r:
        assert json.loads(r.read())["ok"] is True


def test_ephemeral_update_and_delete(fake: FakeSlack, client: WebClient):
    assert client.chat_postEphemeral(channel="C1", user="U001", text="psst")["message_ts"]
    error = api_error(lambda: client.chat_postEphemeral(channel="C1", user="U404", text="psst"))
    assert error.response["error"] == "user_not_in_channel"

    ts = client.chat_postMessage(channel="C1", text="v1")["ts"]
    updated = client.chat_update(channel="C1", ts=ts, text="v2", blocks=[section("v2")])
    assert updated["ts"] == ts and updated["message"]["text"] == "v2"
    assert fake.calls_to("chat.update")[0].params["blocks"] == [section("v2")]
    assert client.chat_delete(channel="C1", ts=ts)["ts"] == ts
    assert api_error(lambda: client.chat_update(channel="C1", ts=ts, text="v3")).response["error"] == "message_not_found"
    assert api_error(lambda: client.chat_delete(channel="C1", ts="1.000001")).response["error"] == "message_not_found"


def test_views_open_push_update_and_publish(fake: FakeSlack, client: WebClient):
    opened = client.views_open(trigger_id="1.trigger", view=modal())["view"]
    assert opened["id"].startswith("V") and opened["hash"] and opened["callback_id"] == "edit"
    assert fake.calls_to("views.open")[0].params["view"] == modal()

    pushed = client.views_push(trigger_id="2.trigger", view=modal("Step 2"))["view"]
    assert pushed["id"] != opened["id"]

    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Saved"))["view"]
    assert updated["id"] == opened["id"] and updated["title"]["text"] == "Saved"
    assert updated["hash"] != opened["hash"]
    stale = api_error(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal()))
    assert stale.response["error"] == "hash_conflict"
    assert api_error(lambda: client.views_update(view_id="V404", view=modal())).response["error"] == "not_found"

    home = {"type": "home", "blocks": [section("your deals")]}
    first = client.views_publish(user_id="U001", view=home)["view"]
    assert client.views_publish(user_id="U001", view=home)["view"]["id"] == first["id"]
    assert api_error(lambda: client.views_publish(user_id="U404", view=home)).response["error"] == "user_not_found"


def test_views_open_needs_a_trigger_id(client: WebClient):
    assert api_error(lambda: client.views_open(trigger_id="", view=modal())).response["error"] == "invalid_arguments"


def test_unknown_method(client: WebClient):
    assert api_error(lambda: client.api_call("deals.explode")).response["error"] == "unknown_method"


def test_wrong_or_missing_token_is_invalid_auth(fake: FakeSlack):
    wrong = WebClient(token="xoxb-wrong", base_url=fake.base_url)
    assert api_error(wrong.auth_test).response["error"] == "invalid_auth"
    missing = WebClient(base_url=fake.base_url)
    assert api_error(missing.auth_test).response["error"] == "invalid_auth"
    assert [c.error for c in fake.rejected()] == ["invalid_auth", "invalid_auth"]


def test_calls_from_many_threads_are_all_recorded(fake: FakeSlack, client: WebClient):
    def post(n: int) -> None:
        client.chat_postMessage(channel="C1", text=str(n))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    posted = fake.messages("C1")
    assert sorted(int(c.params["text"]) for c in posted) == list(range(20))
    assert len({c.response["ts"] for c in posted}) == 20
    fake.clear()
    assert fake.calls == []


def test_wait_for_returns_a_call_made_later_from_another_thread(fake: FakeSlack, client: WebClient):
    timer = threading.Timer(0.2, lambda: client.chat_postMessage(channel="C1", text="later"))
    timer.start()
    call = fake.wait_for(lambda c: c.method == "chat.postMessage", timeout=5)
    assert call.params["text"] == "later"
    timer.join()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        fake.wait_for(lambda c: c.method == "views.open", timeout=0.2)
    assert time.monotonic() - started < 2


# -- Block Kit limits ------------------------------------------------------------------------------

def test_fifty_blocks_pass_and_fifty_one_are_invalid(fake: FakeSlack, client: WebClient):
    client.chat_postMessage(channel="C1", text="ok", blocks=[{"type": "divider"}] * 50)
    error = api_error(lambda: client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "divider"}] * 51))
    assert error.response["error"] == "invalid_blocks"
    assert error.response["response_metadata"]["messages"]  # says why, like Slack
    (rejected,) = fake.rejected()
    assert (rejected.method, rejected.status, rejected.error) == ("chat.postMessage", 200, "invalid_blocks")
    assert len(fake.messages()) == 1


@pytest.mark.parametrize("block", [
    section("x" * 3001),
    section(""),
    {"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]},
    {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}},
    {"type": "header", "text": {"type": "mrkdwn", "text": "not plain"}},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "x" * 3001}]},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 11},
    {"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "block_id": "b" * 256},
])
def test_text_over_block_kit_limits_is_invalid(client: WebClient, block: dict[str, Any]):
    assert api_error(lambda: client.chat_postMessage(channel="C1", text="x", blocks=[block])).response["error"] \
        == "invalid_blocks"
    assert api_error(lambda: client.views_open(trigger_id="t", view=modal(blocks=[block]))).response["error"] \
        == "invalid_blocks"


def test_text_at_the_limits_is_accepted(client: WebClient):
    blocks = [
        section("x" * 3000),
        {"type": "header", "text": {"type": "plain_text", "text": "x" * 150}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "x" * 3000}] * 10},
    ]
    assert client.chat_postMessage(channel="C1", text="x", blocks=blocks)["ok"]


def test_view_limits(fake: FakeSlack, client: WebClient):
    assert client.views_open(trigger_id="t", view=modal("x" * 24, [{"type": "divider"}] * 100))["ok"]
    too_many = api_error(lambda: client.views_open(trigger_id="t", view=modal(blocks=[{"type": "divider"}] * 101)))
    assert too_many.response["error"] == "invalid_blocks"
    long_title = api_error(lambda: client.views_open(trigger_id="t", view=modal("x" * 25)))
    assert long_title.response["error"] == "invalid_arguments"
    home = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    assert api_error(lambda: client.views_publish(user_id="U001", view=home)).response["error"] == "invalid_blocks"
    assert [c.error for c in fake.rejected()] == ["invalid_blocks", "invalid_arguments", "invalid_blocks"]


# -- failure injection -----------------------------------------------------------------------------

def test_rate_limit_is_waited_out_by_slack_sdk(fake: FakeSlack):
    client = WebClient(token=TOKEN, base_url=fake.base_url, retry_handlers=[RateLimitErrorRetryHandler()])
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    first, second = fake.calls_to("chat.postMessage")
    assert (first.status, first.error, second.status) == (429, "ratelimited", 200)
    assert second.at - first.at >= 1  # slack_sdk honoured Retry-After
    assert len(fake.messages()) == 1


def test_rate_limit_without_retry_surfaces_retry_after(fake: FakeSlack, client: WebClient):
    fake.fail_next("views.open", status=429, retry_after=7)
    error = api_error(lambda: client.views_open(trigger_id="t", view=modal()))
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "7"
    assert client.views_open(trigger_id="t", view=modal())["ok"]  # only the next call fails


def test_server_errors_then_success(fake: FakeSlack):
    client = WebClient(token=TOKEN, base_url=fake.base_url,
                       retry_handlers=[ServerErrorRetryHandler(2, FixedValueRetryIntervalCalculator(0.01))])
    fake.fail_next("chat.postMessage", status=500)
    fake.fail_next("users.info", status=503, times=2)
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert client.users_info(user="U001")["ok"]
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [500, 200]
    assert [c.status for c in fake.calls_to("users.info")] == [503, 503, 200]


def test_error_next_answers_ok_false_once(fake: FakeSlack, client: WebClient):
    fake.error_next("chat.postMessage", times=2)
    fake.error_next("users.info", error="user_not_visible")
    for _ in range(2):
        assert api_error(lambda: client.chat_postMessage(channel="C1", text="x")).response["error"] \
            == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert api_error(lambda: client.users_info(user="U001")).response["error"] == "user_not_visible"


# -- response_url ----------------------------------------------------------------------------------

def test_response_url_records_posts(fake: FakeSlack):
    url, other = fake.response_url(), fake.response_url()
    assert url != other and url.startswith(f"http://127.0.0.1:{fake.port}/response/")
    answer = WebhookClient(url).send(text="done", blocks=[section("done")], response_type="ephemeral")
    assert answer.status_code == 200
    (call,) = fake.responses(url)
    assert call.method == "response_url" and call.params["response_url"] == url
    assert call.params["url_id"] == url.rsplit("/", 1)[1]
    assert call.params["blocks"] == [section("done")] and call.params["response_type"] == "ephemeral"
    assert fake.responses(other) == []


def test_response_url_rejects_too_many_blocks_and_unknown_urls(fake: FakeSlack):
    status, body = post_json(fake.response_url(), {"blocks": [{"type": "divider"}] * 51})
    assert (status, body["error"]) == (400, "invalid_blocks")
    status, body = post_json(f"http://127.0.0.1:{fake.port}/response/nope", {"text": "x"})
    assert status == 404
    assert fake.responses() == [] and len(fake.rejected()) == 2


# -- Socket Mode -----------------------------------------------------------------------------------

def test_connections_open_wants_an_app_token(fake: FakeSlack, client: WebClient):
    assert api_error(lambda: client.apps_connections_open(app_token=TOKEN)).response["error"] \
        == "not_allowed_token_type"
    assert api_error(lambda: client.apps_connections_open(app_token="xapp-wrong")).response["error"] == "invalid_auth"
    url = client.apps_connections_open(app_token=APP_TOKEN)["url"]
    assert url.startswith("ws://127.0.0.1:")


def test_bolt_app_over_socket_mode_gets_a_slash_command_and_acks(fake: FakeSlack):
    app = App(client=WebClient(token=TOKEN, base_url=fake.base_url))
    seen: list[dict[str, Any]] = []

    @app.command("/deal")
    def deal(ack, command, respond) -> None:  # Bolt passes arguments by name
        seen.append(command)
        ack(text="Looking up D-3")
        respond(text="D-3 is in Prospect")

    @app.event("app_home_opened")
    def home(event) -> None:
        seen.append(event)

    handler = SocketModeHandler(app, APP_TOKEN)
    try:
        handler.connect()
        fake.socket_mode.wait_connected(timeout=5)
        url = fake.response_url()
        ack = fake.socket_mode.send_envelope("slash_commands", {
            "command": "/deal", "text": "show D-3", "user_id": "U001", "team_id": FakeSlack.TEAM_ID,
            "channel_id": "C1", "api_app_id": FakeSlack.APP_ID, "trigger_id": "1.trigger", "response_url": url,
        })
        assert ack["payload"] == {"text": "Looking up D-3"}
        assert seen[0]["text"] == "show D-3"
        reply = fake.wait_for(lambda c: c.method == "response_url" and c.params["response_url"] == url)
        assert reply.params["text"] == "D-3 is in Prospect"

        event_ack = fake.socket_mode.send_envelope("events_api", {
            "type": "event_callback", "team_id": FakeSlack.TEAM_ID, "api_app_id": FakeSlack.APP_ID,
            "event_id": "Ev1", "event_time": 1, "event": {"type": "app_home_opened", "user": "U001", "tab": "home"},
        })
        assert "payload" not in event_ack
        # Bolt acks an event first and runs its listener after, on another thread: wait for it.
        deadline = time.monotonic() + 5
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen[1]["type"] == "app_home_opened"
    finally:
        handler.close()
    assert [c.method for c in fake.calls[:2]] == ["auth.test", "apps.connections.open"]


def test_send_envelope_without_a_connection_times_out(fake: FakeSlack):
    with pytest.raises(TimeoutError):
        fake.socket_mode.send_envelope("slash_commands", {"command": "/deal"}, timeout=0.2)


def test_files_upload_v2_goes_through_the_upload_url_and_is_shared_in_the_dm():
    with FakeSlack(expected_token="xoxb-t") as fake:
        fake.add_user("U1", email="a@x.io", name="a")
        client = WebClient(token="xoxb-t", base_url=fake.base_url)
        png = b"\x89PNG\r\n\x1a\n" + b"x" * 100
        dm = client.conversations_open(users="U1")["channel"]["id"]
        answer = client.files_upload_v2(channel=dm, file=png, filename="funnel.png", title="Funnel",
                                        initial_comment="Your funnel")
        assert answer["file"]["name"] == "funnel.png"
        [shared] = fake.files("U1")
        assert (shared.data, shared.title, shared.initial_comment, shared.channel) == (png, "Funnel", "Your funnel", dm)
        assert [c.method for c in fake.calls][-3:] == ["files.getUploadURLExternal", "file_upload",
                                                     "files.completeUploadExternal"]
        # The share is in the conversation's history, where the send ledger looks after a crash.
        history = client.conversations_history(channel=dm)["messages"]
        assert history[0]["files"][0]["name"] == "funnel.png"
        # Completing a file that was never uploaded is refused.
        url = client.files_getUploadURLExternal(filename="x.png", length=3)
        with pytest.raises(SlackApiError, match="file_not_found"):
            client.files_completeUploadExternal(files=[{"id": url["file_id"], "title": "x"}], channel_id=dm)
