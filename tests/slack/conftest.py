"""A running Pipeline Coach (real app, real HTTP server) wired to a fake Slack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.clock import FixedClock
from bot.db.engine import transaction
from bot.db.models import Person
from bot.demo.workspace import EmbeddedWorkspace
from bot.deps import Deps
from bot.fakeslack import FakeSlack
from bot.imports.deals_csv import import_deals
from bot.imports.org_csv import import_org
from tests.slack.harness import SlackSender

EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday
TOKEN = "xoxb-test-token"


@dataclass
class Coach:
    deps: Deps
    fake: FakeSlack
    slack: SlackSender
    url: str
    ids: dict[str, str]  # email -> Slack user id
    clock: FixedClock
    wait_idle: Callable[..., None]  # until every request's work is done

    def uid(self, email: str) -> str:
        return self.ids[email]

    def person(self, email: str) -> Person:
        with transaction(self.deps.sessions) as s:
            p = s.scalar(sa.select(Person).where(Person.email == email))
            assert p is not None
            return p


def slack_id(n: int) -> str:
    return f"U{n:07d}"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(expected_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def coach(db_url: str, fake_slack: FakeSlack, tmp_path) -> Iterator[Coach]:
    """The example org and deals; people are known to Slack by email but the
    org file has no Slack ids, so the first request of each matches by email.
    The app runs in the same embedded workspace as ``coach demo``."""
    ws = EmbeddedWorkspace(db_url, at=NOW, data_dir=tmp_path, fake=fake_slack,
                           settings={"COACH_ADMINS": "admin@example.com"})
    deps, clock = ws.deps, ws.clock
    ids: dict[str, str] = {}
    try:
        with transaction(deps.sessions) as s:
            import_org(s, EXAMPLES / "org.csv", now=NOW)
            import_deals(s, EXAMPLES / "deals.csv", deps.playbook, now=NOW)
            for n, p in enumerate(s.scalars(sa.select(Person).order_by(Person.id)), start=1):
                ids[p.email] = slack_id(n)
                fake_slack.add_user(ids[p.email], email=p.email, name=p.email.split("@")[0], real_name=p.name,
                                    tz=p.timezone or "Europe/Paris")
            admin = Person(email="admin@example.com", name="Ada Admin", created_at=NOW, updated_at=NOW)
            s.add(admin)
        ids["admin@example.com"] = slack_id(999)
        fake_slack.add_user(ids["admin@example.com"], email="admin@example.com", name="admin", real_name="Ada Admin")
        ids["stranger@example.com"] = slack_id(998)
        fake_slack.add_user(ids["stranger@example.com"], email="stranger@example.com", name="stranger")
        fake_slack.clear()  # forget the start-up auth.test: tests count what requests cause
        url = f"http://127.0.0.1:{ws.server.port}/slack/events"
        yield Coach(deps, fake_slack, SlackSender(url, fake_slack), url, ids, clock, ws.executor.wait_idle)
    finally:
        ws.close()
