"""One send budget for every instance, kept in the database.

Slack limits posting per app and workspace, not per process: two ``coach serve`` pacing
themselves separately would together go past it. So the instances share one row of
``send_budget``: the next free send slot, and until when a 429's ``Retry-After`` says nobody
may send. An instance reserves a block of slots in one atomic ``UPDATE ... RETURNING`` (a
tenth of a second's worth, so the database sees a few round trips a second, not one a
message) and hands them to its sender threads in turn. Before posting, a sender reads the
pause, so a 429 seen by one instance stops the others at their next send.

Why the database and not a share of the rate per instance: a fixed share needs to know how
many instances run, wastes the share of one that is idle or dead, and still needs a shared
place for the pause after a 429; every instance already has the database.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import sqlalchemy as sa

from bot.db.models import SendBudget

LEDGER = "ledger"  # the budget of the ledger's posts (chat.postMessage and shared files)
BLOCK_SECONDS = 0.1  # reserve this much of the budget per round trip to the database
MAX_SKIPS = 3  # late slots a sender gives up in a row before it sends late anyway (never starve)


class SharedPace:
    """At most ``per_second`` sends a second across every instance on ``engine``'s database,
    evenly spaced; a :meth:`pause` holds every instance. Thread-safe; one per process suffices."""

    def __init__(self, engine: sa.Engine, per_second: float, *, name: str = LEDGER) -> None:
        self.engine, self.name = engine, name
        self.interval = 1.0 / per_second
        self.block = max(1, round(per_second * BLOCK_SECONDS))
        # A sender waking later than this after its slot gives the slot up: sent late, it would land
        # in the same second as the slots after it and push that second past Slack's limit.
        self.grace = self.interval
        self._slots: deque[float] = deque()  # reserved, not yet handed out, in order
        self.skipped = 0  # slots given up for lateness, for bench/fanout.py
        self._lock = threading.Lock()
        self._greatest = sa.func.greatest if engine.dialect.name == "postgresql" else sa.func.max

    def wait(self) -> None:
        """Block until this caller may send: its slot has come and nobody was told to wait."""
        skipped = 0
        while True:
            slot = self._take()
            delay = slot - time.time()
            if delay > 0:
                time.sleep(delay)
            paused = self._paused_until()
            if paused > time.time():
                self._forget_before(paused)
                time.sleep(max(0.0, paused - time.time()))
                continue
            # Late counted after the read of the pause, the last thing before the post.
            if time.time() - slot > self.grace and skipped < MAX_SKIPS:
                skipped += 1
                self.skipped += 1
                continue
            return

    def pause(self, seconds: float) -> None:
        """Slack said to wait: no instance sends for ``seconds``."""
        until = time.time() + seconds
        row = SendBudget.__table__.c
        with self.engine.begin() as conn:
            self._ensure_row(conn)
            conn.execute(sa.update(SendBudget).where(row.name == self.name).values(
                paused_until=self._greatest(row.paused_until, until),
                next_slot=self._greatest(row.next_slot, until)))
        self._forget_before(until)

    def _take(self) -> float:
        with self._lock:
            if not self._slots:
                start = self._reserve()
                self._slots.extend(start + i * self.interval for i in range(self.block))
            return self._slots.popleft()

    def _reserve(self) -> float:
        """Reserve the next ``block`` slots for this instance; the first one's time."""
        span = self.block * self.interval
        row = SendBudget.__table__.c
        with self.engine.begin() as conn:
            for _ in range(2):
                end = conn.execute(sa.update(SendBudget).where(row.name == self.name)
                                   .values(next_slot=self._greatest(row.next_slot, row.paused_until, time.time())
                                           + span)
                                   .returning(row.next_slot)).scalar()
                if end is not None:
                    return float(end) - span
                self._ensure_row(conn)
        raise RuntimeError(f"send budget {self.name!r} could not be created")  # pragma: no cover

    def _ensure_row(self, conn: sa.Connection) -> None:
        values = {"name": self.name, "next_slot": 0.0, "paused_until": 0.0}
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert
            conn.execute(pg_insert(SendBudget).values(values).on_conflict_do_nothing(index_elements=["name"]))
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert
            conn.execute(sqlite_insert(SendBudget).values(values).on_conflict_do_nothing(index_elements=["name"]))

    def _paused_until(self) -> float:
        with self.engine.connect() as conn:
            paused = conn.execute(sa.select(SendBudget.paused_until).where(SendBudget.name == self.name)).scalar()
        return float(paused or 0.0)

    def _forget_before(self, until: float) -> None:
        """Slots before a pause's end are void (the pause also moved the next free slot past it)."""
        with self._lock:
            while self._slots and self._slots[0] < until:
                self._slots.popleft()
