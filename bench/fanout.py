"""Benchmark: the Monday fan-out through the send ledger against a rate-capped fake Slack.

    python bench/fanout.py                                # 1,000 then 5,000 reps, cap 50 msg/s
    python bench/fanout.py --reps 1000 --cap 50 --rate 47.5 --instances 2 --runs 3
    python bench/fanout.py --database-url postgresql+psycopg://postgres@127.0.0.1:55432/bench
    python bench/fanout.py --threads                      # the instances as threads of this process

The fake Slack answers chat.postMessage past ``--cap`` calls in any one-second window with 429
and ``Retry-After: 1``. Each rep gets one DM the size of a check-in prompt, through the real
ledger (claim, post, mark) and the send budget every instance shares through the database.
``--instances`` ledgers race for the sends, each a separate process (as two `coach serve`) with
its own database connections, started together; ``--threads`` runs them in this process
instead, still each with its own engine and budget object. Prints the achieved rate (accepted
messages over the time from the first to the last) as a fraction of the cap, the 429s,
duplicates and missing messages; medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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
from bot.db.models import Person, ScheduledSend, SendBudget
from bot.deps import Deps, build_deps
from bot.fakeslack import FakeSlack
from bot.slack.client import web_client
from schedules import ledger
from schedules.ledger import RunReport, pace_for, run_due
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


def instance_deps(url: str, api_url: str, rate: float) -> Deps:
    env = {"DATABASE_URL": url, "COACH_DATA_DIR": tempfile.gettempdir(), "SLACK_BOT_TOKEN": TOKEN,
           "SLACK_API_URL": api_url, "COACH_SEND_RATE": str(rate)}
    return build_deps(load_settings(env), clock=FixedClock(DUE))


def send_as(deps: Deps, instance: str) -> dict[str, int]:
    """One instance's run of the step, as `coach serve` would do it: its own budget object on the shared row."""
    pace = pace_for(deps)
    report: RunReport = run_due(deps, web_client(deps.settings), [prompt], now=DUE, instance=instance, pace=pace)
    return {"sent": len(report.sent), "failed": len(report.failed), "skipped": pace.skipped}


def worker(url: str, api_url: str, rate: float, instance: str) -> None:
    """A separate process: get ready, say so, send when the parent says go, print what it did."""
    deps = instance_deps(url, api_url, rate)
    with deps.engine.connect():
        pass  # connect before the start so that both instances begin at once
    print("ready", flush=True)
    sys.stdin.readline()
    print(json.dumps(send_as(deps, instance)), flush=True)


def prepare(url: str, api_url: str, rate: float, reps: int) -> None:
    deps = instance_deps(url, api_url, rate)
    upgrade(deps.engine)
    with transaction(deps.sessions) as s:
        s.execute(sa.delete(ScheduledSend))
        s.execute(sa.delete(SendBudget))
        s.execute(sa.delete(Person))
        s.execute(sa.insert(Person), [{"email": f"r{n}@x.io", "name": f"Rep {n}", "slack_user_id": f"U{n:07d}",
                                       "created_at": DUE, "updated_at": DUE} for n in range(reps)])
    deps.engine.dispose()


def in_processes(url: str, api_url: str, rate: float, instances: int, senders: int) -> list[dict[str, int]]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", url, api_url, str(rate), f"bench-{i}",
                               "--senders", str(senders)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env) for i in range(instances)]
    for p in procs:
        if (p.stdout.readline().strip() if p.stdout else "") != "ready":
            raise SystemExit(f"an instance did not start: exit code {p.wait()}")
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    return [json.loads(p.communicate()[0]) for p in procs]


def in_threads(url: str, api_url: str, rate: float, instances: int) -> list[dict[str, int]]:
    all_deps = [instance_deps(url, api_url, rate) for _ in range(instances)]
    ledger._PACES.clear()  # each instance its own budget object, as in its own process
    paces = []
    for d in all_deps:
        paces.append(pace_for(d))
        ledger._PACES.clear()
    reports: list[dict[str, int]] = []

    def one(i: int) -> None:
        report = run_due(all_deps[i], web_client(all_deps[i].settings), [prompt], now=DUE,
                         instance=f"bench-{i}", pace=paces[i])
        reports.append({"sent": len(report.sent), "failed": len(report.failed), "skipped": paces[i].skipped})

    threads = [threading.Thread(target=one, args=(i,)) for i in range(instances)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for d in all_deps:
        d.engine.dispose()
    return reports


def one_run(url: str, reps: int, cap: float, rate: float, instances: int, senders: int,
            threads: bool) -> dict[str, float]:
    with FakeSlack(expected_token=TOKEN) as fake:
        prepare(url, fake.base_url, rate, reps)
        for n in range(reps):
            fake.add_user(f"U{n:07d}", email=f"r{n}@x.io", name=f"r{n}")
        fake.limit_rate("chat.postMessage", cap)
        start = time.perf_counter()
        reports = (in_threads(url, fake.base_url, rate, instances) if threads
                   else in_processes(url, fake.base_url, rate, instances, senders))
        wall = time.perf_counter() - start
        posts = fake.calls_to("chat.postMessage")
    accepted = [c for c in posts if c.ok]
    per = Counter(c.params["channel"] for c in accepted)
    times = sorted(c.at for c in accepted)
    span = times[-1] - times[0]
    rate_seen = (len(accepted) - 1) / span if span > 0 else float("nan")
    window = _most_in_a_second(times)
    return {"msg/s": rate_seen, "of cap": rate_seen / cap, "wall s": wall,
            "429s": sum(1 for c in posts if c.status == 429), "most in 1 s": window,
            "duplicates": sum(n - 1 for n in per.values() if n > 1), "missing": reps - len(per),
            "failed": sum(r["failed"] for r in reports), "late slots": sum(r["skipped"] for r in reports),
            "split": "/".join(str(r["sent"]) for r in reports)}  # type: ignore[dict-item]


def _most_in_a_second(times: list[float]) -> int:
    """The most accepted posts in any one-second window, as the fake counts them."""
    most, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - 1.0:
            lo += 1
        most = max(most, hi - lo + 1)
    return most


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        ap = argparse.ArgumentParser()
        ap.add_argument("--worker", nargs=4)
        ap.add_argument("--senders", type=int, default=ledger.SENDERS)
        args = ap.parse_args()
        ledger.SENDERS = args.senders
        url, api_url, rate, instance = args.worker
        worker(url, api_url, float(rate), instance)
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--cap", type=float, default=50.0, help="the fake Slack's chat.postMessage limit, per second")
    ap.add_argument("--rate", type=float, default=None, help="COACH_SEND_RATE (default: 95%% of the cap)")
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument("--threads", action="store_true", help="run the instances as threads of this process")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--senders", type=int, default=ledger.SENDERS, help="sending threads per instance")
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    args = ap.parse_args()
    rate = args.rate or args.cap * 0.95
    ledger.SENDERS = args.senders
    how = "threads" if args.threads else "processes"
    for reps in args.reps:
        results = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                url = args.database_url or f"sqlite:///{tmp}/coach.db"
                r = one_run(url, reps, args.cap, rate, args.instances, args.senders, args.threads)
                print(f"   run: {r['msg/s']:.1f} msg/s = {r['of cap']:.1%}, 429s {r['429s']}, most in 1 s "
                      f"{r['most in 1 s']}, late slots {r['late slots']}, sent {r['split']}", flush=True)
                results.append(r)
        med = {k: statistics.median(r[k] for r in results) for k in results[0] if k != "split"}
        print(f"{reps:>6} reps, cap {args.cap:g}/s, pace {rate:g}/s, {args.instances} instances ({how}), "
              f"median of {args.runs}: {med['msg/s']:.1f} msg/s = {med['of cap']:.0%} of the cap "
              f"({med['wall s']:.1f} s), 429s {med['429s']:g}, duplicates {med['duplicates']:g}, "
              f"missing {med['missing']:g}, failed {med['failed']:g}", flush=True)


if __name__ == "__main__":
    main()
