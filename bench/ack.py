"""Benchmark: how fast Slack gets its ack for a signed `/deal list`, `coach serve` against a
minimal Bolt app, with the same client in the same run.

    python bench/ack.py                                  # 50 concurrent clients, 1,000 requests each side
    python bench/ack.py --clients 50 --requests 2000 --rounds 3 --database-url postgresql+psycopg://...

Both servers answer the same signed slash commands from the same client: `coach serve
--no-scheduler` (the real app: example org and deals, people matched by Slack id, the listing
sent to the response_url of a local fake Slack), and a minimal Bolt app on a threaded WSGI
server (ack, then respond "ok" to the same response_url). The client measures the time to the
HTTP answer (the ack), which is what Slack's three-second limit is about. Each round runs
coach then the minimal app; the medians over the rounds are printed, with the p99 ratio.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.fakeslack import FakeSlack  # noqa: E402
from bot.fakeslack.driver import SECRET, sign  # noqa: E402

TOKEN = "xoxb-bench-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def minimal_app(port: int, api_url: str) -> None:
    """A minimal Bolt app: ack, then respond to the response_url; threaded WSGI server."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    app = App(client=WebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET,
              token_verification_enabled=False, process_before_response=False)

    @app.command("/deal")
    def deal(ack, respond):  # type: ignore[no-untyped-def]
        ack()
        respond(text="ok", response_type="ephemeral")

    class Threaded(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        request_queue_size = 128

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = SlackRequestHandler(app)
    make_server("127.0.0.1", port, handler, server_class=Threaded, handler_class=Quiet).serve_forever()


def prepare_coach(url: str, fake: FakeSlack, env: dict[str, str]) -> list[str]:
    """Init the database, import the example org and deals; every person known to the fake Slack
    and to the org by Slack id. Returns the reps' Slack ids."""
    run = [sys.executable, "-m", "bot.cli"]
    subprocess.run([*run, "init"], env=env, check=True, capture_output=True)
    examples = ROOT / "bot" / "examples"
    lines = (examples / "org.csv").read_text().splitlines()
    head, rows = lines[0].split(","), [line.split(",") for line in lines[1:] if line.strip()]
    email_at, id_at = head.index("email"), head.index("slack_user_id")
    ids = []
    for n, row in enumerate(rows, start=1):
        uid = f"U{n:07d}"
        row[id_at] = uid
        fake.add_user(uid, email=row[email_at], name=row[email_at].split("@")[0])
        ids.append(uid)
    org = Path(env["COACH_DATA_DIR"]) / "org.csv"
    org.parent.mkdir(parents=True, exist_ok=True)
    org.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    subprocess.run([*run, "org", "import", str(org)], env=env, check=True, capture_output=True)
    subprocess.run([*run, "deals", "import", str(examples / "deals.csv")], env=env, check=True, capture_output=True)
    return ids


def hammer(url: str, users: list[str], response_url: str, clients: int, total: int) -> tuple[list[float], float, int]:
    """``total`` signed `/deal list` from ``clients`` threads; (latencies in s, wall time, non-200 answers)."""
    latencies: list[float] = []
    bad = [0]
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        mine: list[float] = []
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            form = {"token": "x", "team_id": "T0TEAM", "team_domain": "acme", "channel_id": "C0GENERAL",
                    "channel_name": "general", "user_id": users[n % len(users)], "user_name": "u",
                    "command": "/deal", "text": "list", "api_app_id": "A0APP", "response_url": response_url,
                    "trigger_id": f"1.{n}"}
            body = urllib.parse.urlencode(form).encode()
            req = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/x-www-form-urlencoded", **sign(body)})
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    r.read()
                    ok = r.status == 200
            except (urllib.error.URLError, OSError):
                ok = False
            mine.append(time.perf_counter() - start)
            if not ok:
                with lock:
                    bad[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - start, bad[0]


def wait_replies(fake: FakeSlack, response_url: str, count: int, timeout: float = 120) -> float:
    """Wait until ``count`` replies reached the response_url; the seconds it took."""
    start = time.perf_counter()
    while len(fake.responses(response_url)) < count and time.perf_counter() - start < timeout:
        time.sleep(0.05)
    return time.perf_counter() - start


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=1000, help="per server per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="coach serve --threads (default: its own)")
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    ap.add_argument("--minimal-app", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--api-url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.minimal_app:
        minimal_app(args.minimal_app, args.api_url)
        return

    with tempfile.TemporaryDirectory() as tmp, FakeSlack(expected_token=TOKEN) as fake:
        url = args.database_url or f"sqlite:///{tmp}/coach.db"
        env = {**os.environ, "DATABASE_URL": url, "COACH_DATA_DIR": f"{tmp}/data", "SLACK_API_URL": fake.base_url,
               "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "PYTHONPATH": str(ROOT),
               "COACH_LOG_LEVEL": "WARNING"}
        for var in ("COACH_PLAYBOOK", "COACH_CONFIG", "COACH_ADMINS"):
            env.pop(var, None)
        users = prepare_coach(url, fake, env)
        coach_port, mini_port = free_port(), free_port()
        serve = [sys.executable, "-m", "bot.cli", "serve", "--no-scheduler", "--port", str(coach_port)]
        if args.threads:
            serve += ["--threads", str(args.threads)]
        procs = [subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                 subprocess.Popen([sys.executable, __file__, "--minimal-app", str(mini_port), "--api-url",
                                   fake.base_url], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        try:
            wait_ready(f"http://127.0.0.1:{coach_port}/healthz", procs[0])
            wait_ready(f"http://127.0.0.1:{mini_port}/", procs[1])
            targets = {"coach": f"http://127.0.0.1:{coach_port}/slack/events",
                       "minimal": f"http://127.0.0.1:{mini_port}/slack/events"}
            response_url = fake.response_url()
            for target in targets.values():  # warm up: people matched, caches filled
                fake.clear()
                hammer(target, users, response_url, args.clients, len(users) * 2)
                wait_replies(fake, response_url, len(users) * 2)
            results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in targets}
            for r in range(args.rounds):
                for name, target in targets.items():
                    fake.clear()
                    lat, wall, bad = hammer(target, users, response_url, args.clients, args.requests)
                    # The replies (the listings, on the response_url) follow the acks: wait for all of them.
                    drain = wait_replies(fake, response_url, args.requests)
                    replies = len(fake.responses(response_url))
                    p50, p99 = pct(lat, 50) * 1000, pct(lat, 99) * 1000
                    results[name].append((p50, p99, len(lat) / wall))
                    print(f"round {r + 1} {name:<8} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  {len(lat) / wall:6.0f} req/s"
                          f"  non-200 {bad}  replies {replies}/{args.requests}, the last {drain:.1f} s after the"
                          " last ack", flush=True)
                    time.sleep(0.5)
            med = {name: tuple(statistics.median(x[i] for x in rs) for i in range(3)) for name, rs in results.items()}
            print(f"\nmedians over {args.rounds} rounds, {args.clients} concurrent clients, {args.requests} requests:")
            for name, (p50, p99, rps) in med.items():
                print(f"  {name:<8} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  {rps:6.0f} req/s")
            c, m = med["coach"], med["minimal"]
            print(f"  coach / minimal: p50 {c[0] / m[0]:.2f}x  p99 {c[1] / m[1]:.2f}x  req/s {c[2] / m[2]:.2f}x")
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=10)


if __name__ == "__main__":
    main()
