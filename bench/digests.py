"""Benchmark: every manager's digest for a large org, from the database, at growing sizes.

    python bench/digests.py                                    # SQLite, 20k, 50k, 100k and 200k deals
    python bench/digests.py --sizes 200000 --runs 3
    python bench/digests.py --database-url postgresql+psycopg://postgres@127.0.0.1:55432/bench

For each size, generates the org (five tiers: reps, first-line, second-line,
region heads, the top; 20 deals per rep), the deals (BANT answers, last week's
snapshots, a tenth of the deals changed since), then, in a fresh process per
run so the generation does not count, measures:

(a) ``all_digests``: every person's digest node, from the database, each manager's
    listed deals with their lead scores; then again in USD, each deal converted at the
    company's rates, as the scheduled steps compute them;
(b) the Tuesday-to-Friday steps (``schedules.digest_steps.manager_digests`` at
    each tier's digest time): the nodes, then per manager the comments, the
    forecast check, the reviews, the Slack id, coverage, the digest and its blocks,
    without the Slack send and without the chart PNGs;
(c) the charts of a few managers (drawn per manager, so shown per manager).

Prints the medians over ``--runs`` and how each grows from the smallest size.
PostgreSQL: one database, emptied and filled again for each size.
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
        if conn.scalar(sa.select(sa.func.count()).select_from(Deal)) == reps * per_rep:
            print("database already has an org of that size: reusing it", file=sys.stderr)
            return
        for model in (BantAnswer, DealSnapshot, Deal, Person):  # another size's org
            conn.execute(sa.delete(model))
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
                               "slack_user_id": f"U{next_id}", "language": "en",  # no Slack lookups
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
    from zoneinfo import ZoneInfo

    from bot.config import load_settings
    from bot.db.models import Person
    from bot.deps import build_deps
    from bot.domain.cadence import digest_instant
    from bot.render.charts import drawn
    from bot.services import charts
    from bot.services.digests import all_digests
    from schedules import digest_steps

    pb = load_playbook("default")
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        start = time.perf_counter()
        nodes = all_digests(session, pb, WEEK, now=NOW)
        every = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (KiB on Linux)
    del nodes
    # (a) again in the reporting currency, as the steps compute them (each deal converted and rounded).
    with make_session_factory(engine)() as session:
        start = time.perf_counter()
        nodes = all_digests(session, pb, WEEK, now=NOW, currency="USD")
        in_usd = time.perf_counter() - start

    # (b) Tuesday to Friday: each tier's step at its time, as `coach serve` runs it; charts apart.
    deps = build_deps(load_settings({"DATABASE_URL": url}))
    deps.__dict__["engine"] = engine
    cadence = deps.settings.cadence
    digest_steps._charts = lambda *a, **k: []
    computing = 0.0
    real_all = digest_steps.digests.all_digests

    def timed_all(*a, **k):
        nonlocal computing
        t0 = time.perf_counter()
        try:
            return real_all(*a, **k)
        finally:
            computing += time.perf_counter() - t0

    digest_steps.digests.all_digests = timed_all
    sent = 0
    steps = 0.0
    for tier in (1, 2, 3, 4):
        at = digest_instant(WEEK, tier, cadence, ZoneInfo("UTC"))
        with make_session_factory(engine)() as session:
            t0 = time.perf_counter()
            sent += len(digest_steps.manager_digests(deps, session, now=at))
            steps += time.perf_counter() - t0
    digest_steps.digests.all_digests = real_all

    # (c) The charts, drawn per manager: a few first-line managers.
    chart_times = []
    with make_session_factory(engine)() as session:
        for person in session.scalars(sa.select(Person).where(Person.tier == 1).order_by(Person.id).limit(3)):
            t0 = time.perf_counter()
            drawn(charts.person_charts(session, pb, person, now=NOW, week=WEEK, tag="bench"))
            chart_times.append(time.perf_counter() - t0)
    out.put({"all": every, "usd": in_usd, "peak": peak, "people": len(nodes), "steps": steps, "steps_nodes": computing,
             "digests": sent, "chart": statistics.median(chart_times)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", help="default: a new SQLite file per size in a temp folder")
    ap.add_argument("--sizes", default="20000,50000,100000,200000", help="open deals, comma-separated")
    ap.add_argument("--deals-per-rep", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="coach-bench-")
    sizes = [int(x) for x in args.sizes.split(",")]
    rows = []
    for size in sizes:
        reps = size // args.deals_per_rep
        url = load_settings({"DATABASE_URL": args.database_url} if args.database_url else
                            {"DATABASE_URL": f"sqlite:///{tmp}/bench-{size}.db"}).database_url
        start = time.perf_counter()
        generate(url, reps, args.deals_per_rep, args.seed)
        print(f"backend: {sa.make_url(url).get_backend_name()}; org: {reps:,} reps, {size:,} open deals, 5 tiers; "
              f"generated in {time.perf_counter() - start:.1f} s", flush=True)
        ctx = mp.get_context("spawn")
        results = []
        for _ in range(args.runs):
            q: mp.Queue = ctx.Queue()
            p = ctx.Process(target=measure, args=(url, q))
            p.start()
            results.append(q.get())
            p.join()

        def med(key: str, results: list = results) -> float:
            return statistics.median(r[key] for r in results)

        times = [r["all"] for r in results]
        row = {"size": size, "all": med("all"), "usd": med("usd"), "steps": med("steps"), "nodes": med("steps_nodes"),
               "chart": med("chart"), "managers": results[0]["digests"]}
        rows.append(row)
        print(f"  (a) all digests ({results[0]['people']:,} people): median {row['all']:.2f} s over {len(times)} runs "
              f"(min {min(times):.2f}, max {max(times):.2f}); peak RSS {med('peak'):.0f} MiB; "
              f"in USD (as the steps compute them): median {row['usd']:.2f} s")
        print(f"  (b) Tuesday-Friday steps, {row['managers']:,} digests: median {row['steps']:.2f} s, of which the "
              f"four steps' nodes {row['nodes']:.2f} s and the per-manager part {row['steps'] - row['nodes']:.2f} s")
        print(f"  (c) charts: {row['chart']:.2f} s per manager (drawn per manager, not in (b): "
              f"{row['chart'] * row['managers']:.0f} s for all of them)", flush=True)
    base = rows[0]
    print("\ndeals      (a) all digests   growth   in USD   (b) steps   growth   per-manager part")
    for r in rows:
        print(f"{r['size']:>8,}   {r['all']:>8.2f} s       {r['all'] / base['all']:>5.1f}x   {r['usd']:>5.2f} s"
              f"   {r['steps']:>7.2f} s  {r['steps'] / base['steps']:>5.1f}x   {r['steps'] - r['nodes']:.2f} s")
    print(f"(deals grew {sizes[-1] / sizes[0]:.0f}x from the first size to the last)")


if __name__ == "__main__":
    main()
