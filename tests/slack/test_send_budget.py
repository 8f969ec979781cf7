"""The send budget every instance shares through the database: together under Slack's cap, a 429
seen by one holds them all, and each message still goes out exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import pairwise

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
from bot.fakeslack import FakeSlack
from bot.slack.client import Budget, Pace
from schedules.ledger import RunReport, run_due
from schedules.outgoing import Outgoing, SendKey
from schedules.send_budget import SharedPace
from tests.slack.conftest import TOKEN

WEEK = date(2026, 11, 23)
DUE = datetime(2026, 11, 23, 9, tzinfo=UTC)
PEOPLE = 30
CAP = 20  # the fake Slack's chat.postMessage limit, per second
RATE = 15.0  # the budget: under the cap with room for a loaded test machine's late wake-ups


@pytest.fixture
def instances(db_url, fake_slack, tmp_path) -> Iterator[list[Deps]]:
    """Two instances on one database, each with its own engine (as two `coach serve`)."""
    env = {"DATABASE_URL": db_url, "COACH_DATA_DIR": str(tmp_path), "SLACK_BOT_TOKEN": TOKEN,
           "SLACK_API_URL": fake_slack.base_url, "COACH_SEND_RATE": str(RATE)}
    both = [build_deps(load_settings(env), clock=FixedClock(DUE)) for _ in range(2)]
    upgrade(both[0].engine)
    with transaction(both[0].sessions) as s:
        for n in range(PEOPLE):
            s.add(Person(email=f"p{n}@x.io", name=f"P {n}", slack_user_id=f"U{n:04d}", created_at=DUE, updated_at=DUE))
    for n in range(PEOPLE):
        fake_slack.add_user(f"U{n:04d}", email=f"p{n}@x.io", name=f"p{n}")
    fake_slack.limit_rate("chat.postMessage", CAP)
    yield both
    for d in both:
        d.engine.dispose()


def hello(deps: Deps, session: so.Session, *, now: datetime, done) -> list[Outgoing]:
    rows = session.execute(sa.select(Person.id, Person.slack_user_id).order_by(Person.id))
    return [Outgoing(SendKey(WEEK, "hello", pid), DUE, uid, f"Hello {pid}", [])
            for pid, uid in rows if not done(SendKey(WEEK, "hello", pid))]


def send_together(instances: list[Deps], paces: list[Budget]) -> list[RunReport]:
    reports: list[RunReport] = [RunReport(), RunReport()]

    def one(i: int) -> None:
        reports[i] = run_due(instances[i], web_client(instances[i].settings), [hello], now=DUE,
                             instance=f"inst-{i}", pace=paces[i], senders=4)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return reports


def most_in_a_second(times: list[float]) -> int:
    """The most calls in any one-second window, as the fake counts them for its cap."""
    times, most, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - 1.0:
            lo += 1
        most = max(most, hi - lo + 1)
    return most


def assert_exactly_once(instances: list[Deps], fake: FakeSlack, reports: list[RunReport]) -> None:
    per: dict[str, int] = {}
    for c in fake.messages():
        per[c.params["channel"]] = per.get(c.params["channel"], 0) + 1
    assert per == {f"U{n:04d}": 1 for n in range(PEOPLE)}
    assert sum(len(r.sent) for r in reports) == PEOPLE and not any(r.failed for r in reports)
    with transaction(instances[0].sessions) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ScheduledSend)
                        .where(ScheduledSend.status == "sent")) == PEOPLE


def test_two_instances_stay_under_the_cap_together(instances, fake_slack):
    paces: list[Budget] = [SharedPace(d.engine, RATE) for d in instances]
    reports = send_together(instances, paces)
    assert_exactly_once(instances, fake_slack, reports)
    assert all(r.sent for r in reports)  # both took part
    posts = fake_slack.calls_to("chat.postMessage")
    assert not [c for c in posts if c.status == 429]
    # Every call, accepted or not, counted: together they never asked for more than the cap.
    assert most_in_a_second([c.at for c in posts]) <= CAP


def test_without_the_shared_budget_two_instances_go_past_the_cap(instances, fake_slack):
    """What the shared budget prevents: each instance pacing itself alone, together over the cap."""
    paces: list[Budget] = [Pace(RATE), Pace(RATE)]
    reports = send_together(instances, paces)
    assert [c for c in fake_slack.calls_to("chat.postMessage") if c.status == 429]
    assert_exactly_once(instances, fake_slack, reports)  # the 429s are waited out all the same


def test_a_429_seen_by_one_instance_holds_the_other(instances, fake_slack):
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=2)
    paces: list[Budget] = [SharedPace(d.engine, RATE) for d in instances]
    reports = send_together(instances, paces)
    assert_exactly_once(instances, fake_slack, reports)
    posts = fake_slack.calls_to("chat.postMessage")
    limited = next(c.at for c in posts if c.status == 429)
    # A post already under way may land just after; then no instance posts until Retry-After is over.
    assert len([c for c in posts if limited < c.at <= limited + 0.25]) <= 1
    assert not [c for c in posts if limited + 0.25 < c.at < limited + 1.95]
    assert len([c for c in posts if c.at >= limited + 1.95]) >= PEOPLE - 2


def test_exactly_once_under_429s_with_two_instances_over_the_cap(instances, fake_slack):
    """Two instances whose shared budget is set over Slack's cap: Slack answers 429, everyone
    waits it out, and each message still goes out once."""
    paces: list[Budget] = [SharedPace(d.engine, 3 * CAP) for d in instances]
    reports = send_together(instances, paces)
    assert [c for c in fake_slack.calls_to("chat.postMessage") if c.status == 429]
    assert_exactly_once(instances, fake_slack, reports)


def test_slots_reserved_by_two_instances_never_collide(instances):
    rate = 200.0
    a, b = (SharedPace(d.engine, rate) for d in instances)
    slots: list[float] = []
    lock = threading.Lock()

    def take(p: SharedPace) -> None:
        for _ in range(3 * p.block):
            slot = p._take()
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=take, args=(p,)) for p in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slots.sort()
    gaps = [y - x for x, y in pairwise(slots)]
    assert len(slots) == 12 * a.block and min(gaps) >= 1 / rate - 1e-6  # one evenly spaced sequence


def test_a_pause_in_one_instance_holds_the_other_until_it_ends(instances):
    a, b = (SharedPace(d.engine, 100.0) for d in instances)
    b.wait()  # b has slots in hand before a is told to wait
    a.pause(0.6)
    paused_at = time.time()
    b.wait()
    assert time.time() - paused_at >= 0.55
