"""The HTTP endpoint itself: signatures, health, retries, limits, Slack's failures."""

from __future__ import annotations

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from bot.app import create_app
from bot.db.engine import transaction
from bot.db.models import Deal, Person
from bot.server import ServerThread, make_server
from bot.services.deals import NewDeal, create_deal
from tests.slack.harness import SlackSender, all_text, sign, wait_call, wait_reply

TOMMY = "tommy.flowers@example.com"


def test_healthz(coach):
    with urllib.request.urlopen(coach.url.replace("/slack/events", "/healthz"), timeout=5) as r:
        assert r.status == 200
        assert json.loads(r.read())["ok"] is True


def test_requests_without_a_valid_signature_are_rejected(coach):
    body = b"command=%2Fdeal&text=help&user_id=U0000001&response_url=http%3A%2F%2F127.0.0.1%3A1%2Fx&trigger_id=1"
    ctype = "application/x-www-form-urlencoded"
    assert coach.slack.post(body, ctype, signed=False).status == 401
    wrong = sign(body, secret="not-the-secret")
    assert coach.slack.post(body, ctype, headers=wrong, signed=False).status == 401
    stale = sign(body, timestamp=int(time.time()) - 10 * 60)
    assert coach.slack.post(body, ctype, headers=stale, signed=False).status == 401
    tampered = sign(body)
    assert coach.slack.post(body + b"x", ctype, headers=tampered, signed=False).status == 401
    time.sleep(0.3)
    assert coach.fake.calls == []  # nothing was acted on


def test_home_tab_published_once_even_when_slack_retries(coach):
    uid = coach.uid("tim.bernerslee@example.com")
    event = {"type": "app_home_opened", "user": uid, "channel": "D0HOME", "tab": "home", "event_ts": "1"}
    assert coach.slack.event(event, event_id="Ev001").status == 200
    view = wait_call(coach.fake, "views.publish").params["view"]
    text = all_text(view["blocks"])
    assert "Pipeline Coach · Tim Berners-Lee" in text and "Your team" in text
    assert coach.slack.event(event, event_id="Ev001", retry=1).status == 200
    assert coach.slack.event(event, event_id="Ev001", retry=2).status == 200
    time.sleep(0.5)
    assert len(coach.fake.calls_to("views.publish")) == 1


def test_home_for_someone_outside_the_org(coach):
    uid = coach.uid("stranger@example.com")
    coach.slack.event({"type": "app_home_opened", "user": uid, "tab": "home"}, event_id="Ev002")
    assert "not in Pipeline Coach's org" in all_text(wait_call(coach.fake, "views.publish").params["view"]["blocks"])


def test_a_rep_with_300_deals_stays_within_block_kit_limits(coach):
    now = datetime(2026, 11, 24, tzinfo=UTC)
    with transaction(coach.deps.sessions) as s:
        owner = s.scalar(sa.select(Person).where(Person.email == TOMMY))
        for i in range(300):
            stage = coach.deps.playbook.keys[i % 6]
            create_deal(s, NewDeal(f"Deal number {i} " + "x" * 60, f"Account {i}", owner, Decimal(1000 + i), "GBP",
                                   stage), coach.deps.playbook, now=now)
    pages = []
    _, url = coach.slack.command("/deal", "list", user=coach.uid(TOMMY))
    reply = wait_reply(coach.fake, url)
    pages.append(reply)
    text = all_text(reply["blocks"])
    assert "Page 1 of" in text
    total_pages = int(text.split("Page 1 of ")[1].split()[0])
    assert total_pages >= 12  # 303 deals at 25 a page
    for block in reply["blocks"]:
        if block["type"] == "actions":
            nxt = next(e for e in block["elements"] if e["action_id"].endswith("_next"))
    _, url2 = coach.slack.click(nxt["action_id"], nxt["value"], user=coach.uid(TOMMY))
    page2 = wait_reply(coach.fake, url2)
    assert "Page 2 of" in all_text(page2["blocks"])
    assert all(len(p["blocks"]) <= 50 for p in [*pages, page2])
    uid = coach.uid(TOMMY)
    coach.slack.event({"type": "app_home_opened", "user": uid, "tab": "home"}, event_id="Ev300")
    home = wait_call(coach.fake, "views.publish").params["view"]
    assert len(home["blocks"]) <= 100
    assert "more. Use `/deal list`" in all_text(home["blocks"])
    assert coach.fake.rejected() == []


def test_slack_rate_limit_is_waited_out_and_the_message_sent_once(coach):
    coach.fake.fail_next("views.open", status=429, retry_after=1)
    answer, _ = coach.slack.command("/deal", "new", user=coach.uid(TOMMY))
    assert answer.status == 200
    wait_call(coach.fake, "views.open", lambda c: c.status == 200, timeout=10)
    opened = [c for c in coach.fake.calls_to("views.open")]
    assert [c.status for c in opened] == [429, 200]


def test_user_text_is_escaped(coach):
    with transaction(coach.deps.sessions) as s:
        d = s.scalar(sa.select(Deal).where(Deal.ref == "D-3"))
        d.name = "<!channel> & <@U0HACK> deal"
    _, url = coach.slack.command("/deal", "show D-3", user=coach.uid(TOMMY))
    text = all_text(wait_reply(coach.fake, url)["blocks"])
    assert "&lt;!channel&gt; &amp; &lt;@U0HACK&gt; deal" in text
    assert "<!channel>" not in text


def test_reply_through_response_url_survives_a_5xx(coach):
    coach.fake.fail_next("response_url", status=503)
    _, url = coach.slack.command("/deal", "help", user=coach.uid(TOMMY))
    reply = wait_reply(coach.fake, url, timeout=15)
    assert "/deal new" in all_text(reply["blocks"])
    assert [c.status for c in coach.fake.calls_to("response_url")] == [503, 200]


def test_slack_id_looked_up_by_email_and_stored(coach):
    from bot.services.people import slack_id_for
    from bot.slack.directory import SlackDirectory

    client = create_app(coach.deps).client
    with transaction(coach.deps.sessions) as s:
        rep = s.scalar(sa.select(Person).where(Person.email == "jack.ryan@example.com"))
        assert rep.slack_user_id is None and rep.timezone is None
        assert slack_id_for(s, rep, SlackDirectory(client)) == coach.uid("jack.ryan@example.com")
        ghost = Person(email="ghost@example.com", name="Ghost", created_at=rep.created_at, updated_at=rep.created_at)
        s.add(ghost)
        assert slack_id_for(s, ghost, SlackDirectory(client)) is None
    assert coach.person("jack.ryan@example.com").slack_user_id == coach.uid("jack.ryan@example.com")
    assert coach.person("jack.ryan@example.com").timezone == "Europe/Paris"
    assert coach.fake.calls_to("users.lookupByEmail")[-1].params["email"] == "ghost@example.com"


def test_acks_never_queue_behind_other_requests_work_or_the_web_api(coach):
    """As `coach serve` builds it: a dozen `/deal list` at once while Slack takes a second to
    accept each listing. Every command is acknowledged before the first listing is accepted: the
    acks do not wait for a free worker (the work of the requests before them) nor for the Web API."""
    app = create_app(coach.deps, verify_token=False)  # no executor given: acks and work in their own pools
    server = ServerThread(make_server(app, coach.deps, host="127.0.0.1", port=0, threads=16)).start()
    try:
        sender = SlackSender(f"http://127.0.0.1:{server.port}/slack/events", coach.fake)
        reps = [coach.uid(e) for e in ("tim.bernerslee@example.com", "ada.lovelace@example.com")]
        for rep in reps:  # matched by email once
            wait_reply(coach.fake, sender.command("/deal", "list", user=rep)[1])
        coach.fake.slow_down("response_url", 1.0)
        with ThreadPoolExecutor(12) as pool:
            sent = list(pool.map(lambda n: (sender.command("/deal", "list", user=reps[n % 2]), time.monotonic()),
                                 range(12)))
        assert all(answer.status == 200 for (answer, _), _ in sent)
        acked_by = max(at for _, at in sent)
        replies = [wait_reply(coach.fake, url, timeout=30) for (_, url), _ in sent]
        assert all("Open deals" in all_text(r.get("blocks")) for r in replies)
        first_reply = min(c.at for c in coach.fake.calls_to("response_url") if c.params.get("response_url") in
                          {url for (_, url), _ in sent})
        assert acked_by < first_reply
    finally:
        coach.fake.slow_down("response_url", 0)
        server.stop()


FORM = "application/x-www-form-urlencoded"


def _form(payload: str) -> bytes:
    from urllib.parse import urlencode
    return urlencode({"payload": payload}).encode()


JUNK = {  # signed bodies no Slack sends; each was a 500 with a traceback when Bolt read it first
    "null": (_form("null"), FORM),
    "a number": (_form("42"), FORM),
    "a list": (_form("[1, 2]"), FORM),
    "invalid JSON": (_form("{not json"), FORM),
    "deeply nested": (_form("[" * 100_000), FORM),
    "JSON body that is a list": (b"[1]", "application/json"),
    "JSON body nested": (b"{" + b'"a":[' * 50_000 + b"1" + b"]" * 50_000 + b"}", "application/json"),
    "actions a string": (_form(json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": "go"})), FORM),
    "actions empty": (_form(json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": []})), FORM),
    "an action not an object": (_form(json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": [1]})),
                                FORM),
    "view a string": (_form(json.dumps({"type": "view_submission", "user": {"id": "U1"}, "view": "v"})), FORM),
    "state not an object": (_form(json.dumps({"type": "view_submission", "user": {"id": "U1"},
                                              "view": {"callback_id": "deal_new", "state": "s"}})), FORM),
    "user a string": (_form(json.dumps({"type": "block_actions", "user": "U1", "actions": [{}]})), FORM),
    "not UTF-8": (b"payload=%FF%FE" + bytes([0xFF, 0xFE]), FORM),
}


def test_junk_is_refused_with_4xx_and_no_traceback(coach, caplog):
    import logging
    caplog.set_level(logging.INFO)
    unsigned = b"command=%2Fdeal&text=help&user_id=U0000001"
    for ts in ("abc", "", "1e3", "-5", "9" * 40):
        answer = coach.slack.post(unsigned, FORM, headers={"X-Slack-Request-Timestamp": ts,
                                                           "X-Slack-Signature": "v0=00"}, signed=False)
        assert answer.status == 401, (ts, answer)
    for name, (body, ctype) in JUNK.items():
        answer = coach.slack.post(body, ctype)
        assert answer.status == 400, (name, answer)
    assert coach.slack.post(b"x" * (2 << 20), FORM).status == 400
    # A good request still works after all of it.
    answer, url = coach.slack.command("/deal", "help", user=coach.uid("tommy.flowers@example.com"))
    assert answer.status == 200
    wait_call(coach.fake, "response_url", lambda c: c.params.get("response_url") == url)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "Traceback" not in logged and not any(r.exc_info for r in caplog.records)
    # One line for the bad signatures (rate-limited), naming what to check; no body.
    signature_lines = [r for r in caplog.records if "SLACK_SIGNING_SECRET" in r.getMessage()]
    assert len(signature_lines) <= 1 and "user_id=U0000001" not in logged
    assert coach.fake.calls_to("chat.postMessage") == []
