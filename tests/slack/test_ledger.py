"""The send ledger: each scheduled message reaches Slack exactly once, whatever fails."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.app import web_client
from bot.clock import FixedClock
from bot.config import load_settings
from bot.db.engine import transaction
from bot.db.migrate import upgrade
from bot.db.models import Person, ScheduledSend
from bot.deps import Deps, build_deps
from bot.slack.client import Pace
from schedules import ledger
from schedules.ledger import EVENT_TYPE, run_due
from schedules.outgoing import Outgoing, SendKey
from tests.slack.conftest import TOKEN

WEEK = date(2026, 11, 23)
DUE = datetime(2026, 11, 23, 9, tzinfo=UTC)
PEOPLE = 20


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(ledger, "RETRY_DELAYS", (0.01, 0.01, 0.01))


@pytest.fixture
def deps(db_url, fake_slack, tmp_path):
    env = {"DATABASE_URL": db_url, "COACH_DATA_DIR": str(tmp_path), "SLACK_BOT_TOKEN": TOKEN,
           "SLACK_API_URL": fake_slack.base_url}
    d = build_deps(load_settings(env), clock=FixedClock(DUE))
    upgrade(d.engine)
    with transaction(d.sessions) as s:
        for n in range(PEOPLE):
            s.add(Person(email=f"p{n}@x.io", name=f"P {n}", slack_user_id=f"U{n:04d}", created_at=DUE, updated_at=DUE))
    for n in range(PEOPLE):
        fake_slack.add_user(f"U{n:04d}", email=f"p{n}@x.io", name=f"p{n}")
    yield d
    d.engine.dispose()


def hello(deps: Deps, session: so.Session, *, now: datetime, done) -> list[Outgoing]:
    """A step sending everyone one message, with a side effect recorded on sending."""
    out = []
    for p in session.scalars(sa.select(Person).order_by(Person.id)):
        key = SendKey(WEEK, "hello", p.id)
        if done(key):
            continue

        def on_sent(s: so.Session, channel: str, ts: str, pid: int = p.id) -> None:
            s.get(Person, pid).name += " (greeted)"

        out.append(Outgoing(key, DUE, p.slack_user_id, f"Hello {p.name}", [], on_sent=on_sent))
    return out


def per_recipient(fake) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c in fake.messages():
        counts[c.params["channel"]] = counts.get(c.params["channel"], 0) + 1
    return counts


def assert_exactly_once(deps, fake) -> None:
    assert per_recipient(fake) == {f"U{n:04d}": 1 for n in range(PEOPLE)}
    with transaction(deps.sessions) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ScheduledSend).where(ScheduledSend.status == "sent")) \
            == PEOPLE
        names = s.scalars(sa.select(Person.name)).all()
        assert all(n.endswith(" (greeted)") and n.count("greeted") == 1 for n in names)  # on_sent ran once each


def run(deps, fake, at=DUE, instance=None):
    return run_due(deps, web_client(deps.settings), [hello], now=at, instance=instance)


def test_sends_once_and_records_each_send(deps, fake_slack):
    report = run(deps, fake_slack)
    assert len(report.sent) == PEOPLE and not report.late and not report.failed
    again = run(deps, fake_slack, DUE + timedelta(minutes=1))
    assert again.sent == [] and again.busy == []
    assert_exactly_once(deps, fake_slack)
    msg = fake_slack.messages("U0000")[0]
    assert msg.params["metadata"]["event_type"] == EVENT_TYPE
    with transaction(deps.sessions) as s:
        row = s.scalar(sa.select(ScheduledSend).join(Person).where(Person.slack_user_id == "U0000"))
        assert (row.channel, row.ts, row.sent_at, row.late) == ("DU0000", msg.response["ts"], DUE, False)


def test_two_instances_racing(deps, fake_slack):
    fake_slack.slow_down("chat.postMessage", 0.02)  # keep both instances in the fan-out at once
    reports = []
    threads = [threading.Thread(target=lambda i=i: reports.append(run(deps, fake_slack, instance=f"inst-{i}")))
               for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(len(r.sent) for r in reports) == PEOPLE
    assert_exactly_once(deps, fake_slack)


def test_rate_limits_are_waited_out(deps, fake_slack):
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1, times=2)
    report = run(deps, fake_slack)
    assert len(report.sent) == PEOPLE and not report.failed
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if c.status == 429]) == 2
    assert_exactly_once(deps, fake_slack)


def test_server_errors_are_retried_after_checking_slack(deps, fake_slack):
    fake_slack.fail_next("chat.postMessage", status=503, times=2)
    report = run(deps, fake_slack)
    assert len(report.sent) == PEOPLE and not report.failed
    assert fake_slack.calls_to("conversations.history")  # looked before re-posting
    assert_exactly_once(deps, fake_slack)


def test_a_lost_answer_is_not_sent_again(deps, fake_slack):
    # Slack posts the message but the connection drops before the answer: a blind retry would double it.
    fake_slack.drop_next("chat.postMessage", times=3)
    report = run(deps, fake_slack)
    assert len(report.sent) + len(report.recovered) == PEOPLE and len(report.recovered) == 3
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if c.dropped]) == 3
    assert_exactly_once(deps, fake_slack)


def test_crash_between_posting_and_recording_is_recovered(deps, fake_slack):
    """The process died after Slack took the message and before the ledger said so."""
    with transaction(deps.sessions) as s:
        p = s.scalar(sa.select(Person).where(Person.slack_user_id == "U0003"))
        wall = datetime.now(UTC)
        s.add(ScheduledSend(week=WEEK, step="hello", recipient_id=p.id, status="sending", due_at=DUE,
                            claimed_by="dead", lease_until=DUE + ledger.LEASE, claimed_wall=wall, attempts=1,
                            late=False, updated_at=DUE))
        key = str(SendKey(WEEK, "hello", p.id))
    client = web_client(deps.settings)
    client.chat_postMessage(channel="U0003", text="Hello P 3",
                            metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}})
    # While the dead instance's lease runs, nobody else touches the send.
    during = run(deps, fake_slack, DUE + timedelta(minutes=1))
    assert len(during.sent) == PEOPLE - 1 and len(during.busy) == 1
    after = run(deps, fake_slack, DUE + ledger.LEASE + timedelta(minutes=1))
    assert [str(k) for k in after.recovered] == [key] and after.sent == []
    assert_exactly_once(deps, fake_slack)


def test_crash_before_posting_sends_it_after_the_lease(deps, fake_slack):
    with transaction(deps.sessions) as s:
        p = s.scalar(sa.select(Person).where(Person.slack_user_id == "U0007"))
        s.add(ScheduledSend(week=WEEK, step="hello", recipient_id=p.id, status="sending", due_at=DUE,
                            claimed_by="dead", lease_until=DUE + ledger.LEASE, claimed_wall=datetime.now(UTC),
                            attempts=1, late=False, updated_at=DUE))
    run(deps, fake_slack)
    after = run(deps, fake_slack, DUE + ledger.LEASE + timedelta(minutes=11))
    assert len(after.sent) == 1 and len(after.late) == 1  # 16 minutes past due: logged as late
    assert_exactly_once(deps, fake_slack)


def test_a_failed_send_stays_pending_and_is_retried_later(deps, fake_slack):
    fake_slack.error_next("chat.postMessage", "channel_not_found", times=1)
    first = run(deps, fake_slack)
    assert len(first.failed) == 1 and "channel_not_found" in first.failed[0][1]
    with transaction(deps.sessions) as s:
        row = s.scalar(sa.select(ScheduledSend).where(ScheduledSend.status == "failed"))
        assert row is not None and "channel_not_found" in row.last_error
    backing_off = run(deps, fake_slack, DUE + timedelta(seconds=30))
    assert backing_off.sent == []
    later = run(deps, fake_slack, DUE + timedelta(minutes=2))
    assert len(later.sent) == 1 and not later.failed
    assert_exactly_once(deps, fake_slack)


def test_a_broken_step_does_not_stop_the_others(deps, fake_slack):
    def broken(deps, session, *, now, done):
        raise RuntimeError("boom")

    report = run_due(deps, web_client(deps.settings), [broken, hello], now=DUE)
    assert report.step_errors == [("broken", "boom")] and len(report.sent) == PEOPLE


def test_paced_fan_out_is_exactly_once_under_429s_with_two_instances(deps, fake_slack):
    """Slack capped at 10 messages a second, two instances sending faster than that from
    several threads each: the 429s are waited out and every message goes out once."""
    fake_slack.limit_rate("chat.postMessage", 10)
    pace = Pace(40)  # deliberately over the cap, so that Slack answers 429
    reports: list = []
    threads = [threading.Thread(target=lambda i=i: reports.append(run_due(
        deps, web_client(deps.settings), [hello], now=DUE, instance=f"inst-{i}", pace=pace))) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert any(c.status == 429 for c in fake_slack.calls_to("chat.postMessage"))
    assert sum(len(r.sent) for r in reports) == PEOPLE and not any(r.failed for r in reports)
    assert_exactly_once(deps, fake_slack)


def test_a_429_pauses_every_sender_for_its_retry_after(deps, fake_slack):
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=2, times=1)
    report = run_due(deps, web_client(deps.settings), [hello], now=DUE, pace=Pace(None))
    assert len(report.sent) == PEOPLE and not report.failed
    posts = fake_slack.calls_to("chat.postMessage")
    limited = next(c.at for c in posts if c.status == 429)
    # Requests already on their way may land just after; then nobody posts until Retry-After is over.
    assert not [c for c in posts if limited + 0.5 < c.at < limited + 1.9]
    assert [c for c in posts if c.at >= limited + 1.9]
    assert_exactly_once(deps, fake_slack)


def test_dm_channels_are_opened_once_and_remembered(deps, fake_slack):
    since = datetime.now(UTC) - timedelta(minutes=5)
    client = web_client(deps.settings)
    with transaction(deps.sessions) as s:
        pid = s.scalar(sa.select(Person.id).where(Person.slack_user_id == "U0007"))
    key = SendKey(WEEK, "hello", pid)
    assert ledger.find_sent(client, "U0007", key, since=since) is None
    assert ledger.find_sent(client, "U0007", key, since=since) is None
    assert len([c for c in fake_slack.calls_to("conversations.open") if c.params.get("users") == "U0007"]) <= 1
    run(deps, fake_slack)  # the answers of the posts tell each DM channel too
    fake_slack.clear()
    assert ledger.find_sent(client, "U0003", SendKey(WEEK, "hello", pid + 1000), since=since) is None
    assert not fake_slack.calls_to("conversations.open")
