"""Profile the Tuesday-to-Friday digest steps' per-manager part (cProfile), on a generated org.

    python bench/profile_digest_steps.py --size 20000 --db /tmp/bench-20000.db   # generates it once

The week's nodes (``all_digests``) are computed once before profiling and handed back to the steps,
so what is listed is what each step does per manager (comments, forecast check, reviews, tier view,
Slack id, coverage, rendering), plus the statements it issues.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from bench.digests import NOW, WEEK, generate
from bot.config import load_settings
from bot.db.engine import make_engine, make_session_factory
from bot.deps import build_deps
from bot.domain.cadence import digest_instant
from bot.playbooks.loader import load_playbook
from bot.services.digests import all_digests
from schedules import digest_steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=20000, help="open deals (20 per rep)")
    ap.add_argument("--db", required=True, help="SQLite file: generated when missing, reused otherwise")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--repeat", type=int, default=0,
                    help="instead of profiling: time the four steps this many times, print the median")
    args = ap.parse_args()
    url = f"sqlite:///{args.db}"
    if not Path(args.db).exists():
        generate(url, args.size // 20, 20, 1)
    engine = make_engine(url)
    pb = load_playbook("default")
    deps = build_deps(load_settings({"DATABASE_URL": url}))
    deps.__dict__["engine"] = engine
    digest_steps._charts = lambda *a, **k: []
    with make_session_factory(engine)() as session:
        nodes = all_digests(session, pb, WEEK, now=NOW)
    # The nodes are the same in every step here (one currency): computed once, outside the profile.
    digest_steps.digests.all_digests = lambda *a, **k: nodes
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    if args.repeat:
        walls = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for tier in (1, 2, 3, 4):
                at = digest_instant(WEEK, tier, deps.settings.cadence, ZoneInfo("UTC"))
                with make_session_factory(engine)() as session:
                    digest_steps.manager_digests(deps, session, now=at)
            walls.append(time.perf_counter() - t0)
        print(f"per-manager part of the four steps: median {statistics.median(walls):.2f} s over {args.repeat} "
              f"(min {min(walls):.2f}, max {max(walls):.2f}); {statements // args.repeat} SQL statements each time")
        return
    prof = cProfile.Profile()
    sent = 0
    start = time.perf_counter()
    for tier in (1, 2, 3, 4):
        at = digest_instant(WEEK, tier, deps.settings.cadence, ZoneInfo("UTC"))
        with make_session_factory(engine)() as session:
            prof.enable()
            sent += len(digest_steps.manager_digests(deps, session, now=at))
            prof.disable()
    wall = time.perf_counter() - start
    print(f"{sent} digests, per-manager part {wall:.2f} s ({1000 * wall / max(sent, 1):.1f} ms each, "
          f"profiled), {statements} SQL statements")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
