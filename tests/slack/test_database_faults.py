"""A real PostgreSQL stopped and restarted under the running bot: in the middle of a move, between
slash commands, and in the middle of a tick's fan-out. Nothing is half-written (no stage change
without its deal's new stage, no send recorded that was not made), nothing is sent twice, and the
bot recovers when the database is back, without a restart of its own.

The server is this test's own (initdb in a temporary folder, from Debian's packages, as
``.ci/pg-start`` does): stopping the suite's shared server would fail every other test running.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import Deal, ScheduledSend, StageChange
from bot.demo.workspace import EmbeddedWorkspace
from bot.fakeslack import FakeSlack
from bot.imports.deals_csv import import_deals
from bot.imports.org_csv import import_org
from schedules import ledger
from schedules.runner import tick
from tests.slack.harness import all_text, wait_reply

EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 09:00 in London: its reps' check-in prompts


class Postgres:
    """A throwaway PostgreSQL server that can be stopped (as a crash: ``-m immediate``) and started."""

    def __init__(self, root: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL's binaries are missing: .ci/pg-start installs them")
            pytest.skip("PostgreSQL's binaries are not installed (apt-get install postgresql)")
        self.bin = Path(found[-1]).parent
        self.root = root
        self.data = root / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        self._run(f"'{self.bin}/initdb' -D '{self.data}' -A trust -U postgres --no-sync -E UTF8")
        self.start()
        self._run(f"'{self.bin}/createdb' -h 127.0.0.1 -p {self.port} -U postgres coach")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/coach"

    def _run(self, command: str) -> None:
        argv = ["su", "postgres", "-s", "/bin/sh", "-c", command] if os.geteuid() == 0 else ["sh", "-c", command]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(f"'{self.bin}/pg_ctl' -D '{self.data}' -l '{self.root}/log' -w -o "
                  f"\"-p {self.port} -k '{self.root}' -c listen_addresses=127.0.0.1 -c fsync=off\" start")

    def stop(self) -> None:
        self._run(f"'{self.bin}/pg_ctl' -D '{self.data}' -m immediate -w stop")


@pytest.fixture
def pg() -> Iterator[Postgres]:
    # Directly under /tmp: pytest's own folders are root's alone, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="coach-pg-faults."))
    try:
        server = Postgres(root)
        try:
            yield server
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
                server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def ws(pg, tmp_path) -> Iterator[EmbeddedWorkspace]:
    with FakeSlack(expected_token="xoxb-test") as fake:
        w = EmbeddedWorkspace(pg.url, at=NOW, data_dir=tmp_path, fake=fake)
        try:
            with transaction(w.deps.sessions) as s:
                import_org(s, EXAMPLES / "org.csv", now=NOW - timedelta(days=7))
                import_deals(s, EXAMPLES / "deals.csv", w.deps.playbook, now=NOW - timedelta(days=7))
            w.users = {}
            with transaction(w.deps.sessions) as s:
                from bot.db.models import Person
                for n, p in enumerate(s.scalars(sa.select(Person).order_by(Person.id)), start=1):
                    uid = f"U{n:07d}"
                    p.slack_user_id = uid
                    w.users[p.email] = uid
                    fake.add_user(uid, email=p.email, name=p.email.split("@")[0], real_name=p.name,
                                  tz=p.timezone or "Europe/London")
            yield w
        finally:
            w.close()


def _stage(ws, ref: str) -> tuple[str, int]:
    with transaction(ws.deps.sessions) as s:
        deal = s.scalar(sa.select(Deal).where(Deal.ref == ref))
        assert deal is not None
        return deal.stage, s.scalar(sa.select(sa.func.count()).select_from(StageChange)
                                    .where(StageChange.deal_id == deal.id))


def _command(ws, text: str, email: str) -> str:
    answer, url = ws.sender.command("/deal", text, user=ws.users[email])
    assert answer.status == 200, answer
    return all_text(wait_reply(ws.fake, url, timeout=30)["blocks"])


def test_the_database_dies_in_the_middle_of_a_move_and_nothing_is_half_written(ws, pg):
    owner = "tommy.flowers@example.com"
    stage, moves = _stage(ws, "D-3")
    # Stop the server right after the move's stage change is inserted, before the commit.
    engine = ws.deps.engine
    fired = []

    def crash_after_insert(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO STAGE_CHANGE") and not fired:
            fired.append(statement)
            pg.stop()

    sa.event.listen(engine, "after_cursor_execute", crash_after_insert)
    try:
        text = _command(ws, "lost D-3 Budget cut for next year", owner)
    finally:
        sa.event.remove(engine, "after_cursor_execute", crash_after_insert)
    assert fired, "the fault was not injected"
    assert "nothing was changed" in text and "Traceback" not in text
    pg.start()
    # Back without restarting the bot: the deal is as it was, with no stray history row.
    assert _stage(ws, "D-3") == (stage, moves)
    # A command between outages: stopped, it is refused plainly; started, it works again.
    pg.stop()
    assert "nothing was changed" in _command(ws, "show D-3", owner)
    pg.start()
    assert "D-3" in _command(ws, "show D-3", owner)
    text = _command(ws, "lost D-3 Budget cut for next year", owner)
    assert _stage(ws, "D-3") == ("lost", moves + 1), text


def test_the_database_dies_during_a_ticks_fan_out_and_every_prompt_still_goes_once(ws, pg):
    client = ws.client
    # Monday 09:00 in London: the check-in prompts of London's reps go out in one fan-out.
    for hour in range(0, 33):
        at = datetime(2026, 11, 22, tzinfo=UTC) + timedelta(hours=hour)
        ws.clock.set(at)
        tick(ws.deps, client, now=at, instance="a")
    before = len(ws.fake.calls)
    engine, recorded = ws.deps.engine, []

    def crash_after_some_sends(conn, cursor, statement, parameters, *args):
        # After the second send is recorded as sent, the server goes away in the middle of the fan-out.
        if statement.lstrip().upper().startswith("UPDATE SCHEDULED_SEND") and "sent" in repr(parameters):
            recorded.append(1)
            if len(recorded) == 2:
                pg.stop()

    sa.event.listen(engine, "after_cursor_execute", crash_after_some_sends)
    ws.clock.set(MONDAY_9)
    try:
        report = tick(ws.deps, client, now=MONDAY_9, instance="a")
    finally:
        sa.event.remove(engine, "after_cursor_execute", crash_after_some_sends)
    assert len(recorded) == 2 and report.failed, report.summary()
    pg.start()
    # Later ticks, by another instance, finish the fan-out. A prompt posted but not recorded is
    # found in Slack (its metadata carries its key) once the dead claim lapses: not sent again.
    for minutes in (10, int(ledger.LEASE.total_seconds() // 60) + 5, 60):
        at = MONDAY_9 + timedelta(minutes=minutes)
        ws.clock.set(at)
        tick(ws.deps, client, now=at, instance="b")
    with transaction(ws.deps.sessions) as s:
        prompts = {r.recipient.email: r.status for r in s.scalars(
            sa.select(ScheduledSend).where(ScheduledSend.step == "checkin_prompt",
                                           ScheduledSend.due_at == MONDAY_9))}
    assert len(prompts) >= 4 and set(prompts.values()) == {"sent"}, prompts
    sent = [c for c in ws.fake.calls[before:] if c.method == "chat.postMessage" and c.ok]
    keys = [((c.params.get("metadata") or {}).get("event_payload") or {}).get("key") for c in sent]
    prompt_keys = [k for k in keys if k and "/checkin_prompt/" in k]
    assert len(prompt_keys) == len(set(prompt_keys)) == len(prompts), "a prompt went out twice or not at all"
