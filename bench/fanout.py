"""Benchmark: the Monday fan-out through the send ledger against a rate-capped fake Slack.

    python bench/fanout.py                                # 1,000 then 5,000 reps, cap 50 msg/s
    python bench/fanout.py --reps 1000 --cap 50 --rate 47.5 --instances 2 --runs 3
    python bench/fanout.py --database-url postgresql+psycopg://postgres@127.0.0.1:55432/bench

The fake Slack answers chat.postMessage past ``--cap`` calls in any second with 429 and
``Retry-After: 1``. Each rep gets one DM the size of a check-in prompt, through the real
ledger (claim, post, mark; ``--instances`` ledgers racing, as two `coach serve`). Prints the
achieved rate (accepted messages over the time from the first to the last) as a fraction of
the cap, the 429s, duplicates and missing messages; medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.clock import FixedClock
from bot.config import load_settings
from bot.db.engine import transaction
from bot.db.migrate import upgrade
from bot.db.models import Person, ScheduledSend
from bot.deps import Deps, build_deps
from bot.fakeslack import FakeSlack
from bot.slack.client import Pace, web_client
from schedules import ledger
from schedules.ledger import run_due
from schedules.outgoing import Outgoing, SendKey

TOKEN = "xoxb-bench"
WEEK = date(2026, 11, 23)
DUE = datetime(2026, 11, 23, 9, tzinfo=UTC)
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*Deal D-{n}* · stage, amount, next step"}}
          for n in range(12)]


def prompt(deps: Deps, session: so.Session, *, now: datetime, done) -> list[Outgoing]:  # type: ignore[no-untyped-def]
    rows = session.execute(sa.select(Person.id, Person.slack_user_id).order_by(Person.id))
    return [Outgoing(SendKey(WEEK, "bench_prompt", pid), DUE, uid, "Monday check-in", BLOCKS)
            for pid, uid in rows if not done(SendKey(WEEK, "bench_prompt", pid))]


def one_run(url: str, reps: int, cap: float, rate: float, instances: int) -> dict[str, float]:
    with FakeSlack(expected_token=TOKEN) as fake:
        env = {"DATABASE_URL": url, "COACH_DATA_DIR": tempfile.gettempdir(), "SLACK_BOT_TOKEN": TOKEN,
               "SLACK_API_URL": fake.base_url, "COACH_SEND_RATE": str(rate)}
        deps = build_deps(load_settings(env), clock=FixedClock(DUE))
        upgrade(deps.engine)
        with transaction(deps.sessions) as s:
            s.execute(sa.delete(ScheduledSend))
            s.execute(sa.delete(Person))
            s.execute(sa.insert(Person), [{"email": f"r{n}@x.io", "name": f"Rep {n}", "slack_user_id": f"U{n:07d}",
                                           "created_at": DUE, "updated_at": DUE} for n in range(reps)])
        for n in range(reps):
            fake.add_user(f"U{n:07d}", email=f"r{n}@x.io", name=f"r{n}")
        fake.limit_rate("chat.postMessage", cap)
        pace = Pace(rate)  # one process: its instances share the budget
        client = web_client(deps.settings)
        reports = []
        threads = [threading.Thread(target=lambda i=i: reports.append(
            run_due(deps, client, [prompt], now=DUE, instance=f"bench-{i}", pace=pace))) for i in range(instances)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        posts = fake.calls_to("chat.postMessage")
        accepted = [c for c in posts if c.ok]
        per = Counter(c.params["channel"] for c in accepted)
        span = max(c.at for c in accepted) - min(c.at for c in accepted)
        rate_seen = (len(accepted) - 1) / span if span > 0 else float("nan")
        deps.engine.dispose()
        return {"msg/s": rate_seen, "of cap": rate_seen / cap, "wall s": wall,
                "429s": sum(1 for c in posts if c.status == 429),
                "duplicates": sum(n - 1 for n in per.values() if n > 1),
                "missing": reps - len(per), "failed": sum(len(r.failed) for r in reports)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--cap", type=float, default=50.0, help="the fake Slack's chat.postMessage limit, per second")
    ap.add_argument("--rate", type=float, default=None, help="COACH_SEND_RATE (default: 95%% of the cap)")
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--senders", type=int, default=ledger.SENDERS, help="sending threads per instance")
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    args = ap.parse_args()
    rate = args.rate or args.cap * 0.95
    ledger.SENDERS = args.senders
    for reps in args.reps:
        results = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                url = args.database_url or f"sqlite:///{tmp}/coach.db"
                results.append(one_run(url, reps, args.cap, rate, args.instances))
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        print(f"{reps:>6} reps, cap {args.cap:g}/s, pace {rate:g}/s, {args.instances} instances, "
              f"median of {args.runs}: {med['msg/s']:.1f} msg/s = {med['of cap']:.0%} of the cap "
              f"({med['wall s']:.1f} s), 429s {med['429s']:.0f}, duplicates {med['duplicates']:.0f}, "
              f"missing {med['missing']:.0f}, failed {med['failed']:.0f}", flush=True)


if __name__ == "__main__":
    main()
