"""Benchmark: compute every manager's digest for a large org, from the database.

    python bench/digests.py                         # SQLite in a temp folder, 10,000 reps, 200,000 deals
    python bench/digests.py --database-url postgresql://... --reps 10000 --deals-per-rep 20 --runs 3

Generates the org (five tiers: reps, first-line, second-line, region heads,
the top), the deals (with BANT answers and last week's snapshots, a tenth of
the deals changed since), then, in a fresh process per run so the generation
does not count, loads everything and computes all digests. Prints the median
time and peak memory over the runs.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from bot.config import load_settings
from bot.db.engine import make_engine, make_session_factory
from bot.db.migrate import upgrade
from bot.db.models import BantAnswer, Deal, DealSnapshot, Person
from bot.playbooks.loader import load_playbook

WEEK = date(2026, 11, 23)
NOW = datetime(2026, 11, 24, 14, tzinfo=UTC)
SPAN = 10  # reports per manager at every tier


def generate(url: str, reps: int, per_rep: int, seed: int) -> None:
    rnd = random.Random(seed)
    engine = make_engine(url)
    upgrade(engine)
    pb = load_playbook("default")
    open_stages = pb.keys[:-1]
    t = NOW - timedelta(days=30)
    with engine.begin() as conn:
        if conn.scalar(sa.select(sa.func.count()).select_from(Person)):
            print("database already has an org: reusing it", file=sys.stderr)
            return
        # Tiers from the top down: 1 top, then SPAN per manager until `reps` reps.
        people: list[dict] = []
        level = [None]
        tier = 4
        next_id = 1
        while tier >= 0:
            count = reps if tier == 0 else max(1, reps // SPAN ** tier)
            row_ids = []
            for i in range(count):
                boss = level[i * len(level) // count]
                people.append({"id": next_id, "email": f"p{next_id}@bench.io", "name": f"Person {next_id}",
                               "timezone": "UTC", "manager_id": boss, "tier": tier, "created_at": t, "updated_at": t})
                row_ids.append(next_id)
                next_id += 1
            level, tier = row_ids, tier - 1
        conn.execute(sa.insert(Person), people)
        rep_ids = level
        deals, snaps, bant = [], [], []
        n = 0
        for rep in rep_ids:
            for _ in range(per_rep):
                n += 1
                stage = rnd.choice(open_stages)
                amount = Decimal(rnd.randrange(1, 500) * 1000)
                close = date(2027, 1, 1) + timedelta(days=rnd.randrange(200))
                deals.append({"id": n, "ref": f"D-{n}", "name": f"Deal {n}", "account": f"Account {n % 5000}",
                              "owner_id": rep, "amount": amount, "currency": "USD", "close_date": close,
                              "stage": stage, "forecast": pb.stage(stage).forecast.value, "next_step": "Call",
                              "lost_reason": "", "stage_entered_at": t + timedelta(days=rnd.randrange(30)),
                              "created_at": t, "updated_at": t})
                changed = rnd.random() < 0.1
                snaps.append({"deal_id": n, "week": WEEK, "stage": open_stages[max(0, open_stages.index(stage) - 1)]
                              if changed else stage, "amount": amount, "currency": "USD",
                              "close_date": close - timedelta(days=14) if changed else close,
                              "forecast": "pipeline", "taken_at": t})
                if rnd.random() < 0.5:
                    bant.append({"deal_id": n, "item": "need", "answer": "yes", "confirmed_at": t})
        for rows, model in ((deals, Deal), (snaps, DealSnapshot), (bant, BantAnswer)):
            for i in range(0, len(rows), 20000):
                conn.execute(sa.insert(model), rows[i:i + 20000])


def measure(url: str, out: mp.Queue) -> None:
    from bot.services.digests import all_digests

    pb = load_playbook("default")
    engine = make_engine(url)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with make_session_factory(engine)() as session:
        nodes = all_digests(session, pb, WEEK, now=NOW)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    # `/pipeline digest`: one manager's digest on demand, a first-line and a second-line one.
    from bot.db.models import Person
    from bot.services.digests import digest_for
    on_demand = {}
    with make_session_factory(engine)() as session:
        for tier in (1, 2):
            person = session.scalars(sa.select(Person).where(Person.tier == tier).order_by(Person.id).limit(1)).one()
            t0 = time.perf_counter()
            digest_for(session, pb, person, now=NOW)
            on_demand[tier] = time.perf_counter() - t0
    out.put((elapsed, peak / 1024, (peak - before) / 1024, len(nodes), on_demand))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", help="default: a new SQLite file in a temp folder")
    ap.add_argument("--reps", type=int, default=10_000)
    ap.add_argument("--deals-per-rep", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="coach-bench-")
    url = load_settings({"DATABASE_URL": args.database_url} if args.database_url else
                        {"DATABASE_URL": f"sqlite:///{tmp}/bench.db"}).database_url
    start = time.perf_counter()
    generate(url, args.reps, args.deals_per_rep, args.seed)
    print(f"backend: {sa.make_url(url).get_backend_name()}; org: {args.reps:,} reps, "
          f"{args.reps * args.deals_per_rep:,} open deals, 5 tiers; generated in {time.perf_counter() - start:.1f} s")
    ctx = mp.get_context("spawn")
    results = []
    for _ in range(args.runs):
        q: mp.Queue = ctx.Queue()
        p = ctx.Process(target=measure, args=(url, q))
        p.start()
        results.append(q.get())
        p.join()
    times = [r[0] for r in results]
    peaks = [r[1] for r in results]
    spread = f"min {min(times):.2f}, max {max(times):.2f}"
    print(f"all digests ({results[0][3]:,} people, every manager's subtree): "
          f"median {statistics.median(times):.2f} s over {len(times)} runs ({spread}); "
          f"peak RSS median {statistics.median(peaks):.0f} MiB (process total, interpreter included)")
    for tier in (1, 2):
        print(f"/pipeline digest of a tier-{tier} manager (their subtree only): "
              f"median {statistics.median(r[4][tier] for r in results):.3f} s")


if __name__ == "__main__":
    main()
