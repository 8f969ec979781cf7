"""All digests (``all_digests``) timed side by side: this checkout against another one, same database, same run.

    git worktree add /tmp/base ec562e6                       # the code to compare with
    python bench/digests.py --sizes 200000 --runs 1          # or any database with an org in it
    python bench/compare_digests.py --base /tmp/base --database-url sqlite:////path/bench-200000.db
    python bench/compare_digests.py --base /tmp/base --database-url postgresql+psycopg://... --currency USD

Each round runs one fresh process per checkout, alternating, so both see the same machine load;
it prints each side's times, their medians and the median of the per-round ratios (this / base).
The database is only read; it must have the schema both checkouts expect.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

# Run inside each checkout: imports from there, times one call of all_digests after a first connection.
ONE = """
import sys, time
sys.path.insert(0, sys.argv[1])
import sqlalchemy as sa
from bench.digests import NOW, WEEK
from bot.db.engine import make_engine, make_session_factory
from bot.playbooks.loader import load_playbook
from bot.services.digests import all_digests
engine = make_engine(sys.argv[2])
pb = load_playbook("default")
currency = sys.argv[3] or None
with make_session_factory(engine)() as s:
    s.execute(sa.text("select 1"))
with make_session_factory(engine)() as s:
    t = time.perf_counter()
    nodes = all_digests(s, pb, WEEK, now=NOW, currency=currency)
    print(f"{time.perf_counter() - t:.4f} {len(nodes)}")
"""


def once(tree: Path, url: str, currency: str) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", ONE, str(tree), url, currency], check=True, capture_output=True,
                         text=True, cwd=tree).stdout.split()
    return float(out[0]), int(out[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, type=Path, help="the other checkout (a git worktree)")
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--currency", default="", help="e.g. USD: all digests in that currency, as the steps compute them")
    args = ap.parse_args()
    rows = []
    for i in range(args.rounds):
        (base, people_base), (this, people) = once(args.base, args.database_url, args.currency), \
            once(HERE, args.database_url, args.currency)
        if people != people_base:
            sys.exit(f"the two checkouts made {people_base} and {people} nodes: not the same work")
        rows.append((base, this))
        print(f"round {i + 1}: base {base:.2f} s, this {this:.2f} s", flush=True)
    base_t, this_t = [b for b, _ in rows], [t for _, t in rows]
    print(f"base: median {statistics.median(base_t):.2f} s (min {min(base_t):.2f}, max {max(base_t):.2f})")
    print(f"this: median {statistics.median(this_t):.2f} s (min {min(this_t):.2f}, max {max(this_t):.2f})")
    print(f"this / base: {statistics.median(t / b for b, t in rows):.2f} (median of the rounds' ratios)")


if __name__ == "__main__":
    main()
