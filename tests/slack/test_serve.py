"""``coach serve`` as a person runs it: a real process, real HTTP, the fake Slack."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from bot.fakeslack import FakeSlack
from tests.slack.harness import SECRET, SlackSender, all_text, wait_reply

COACH = [sys.executable, "-m", "bot.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_coach(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COACH, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def env(db_url, tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COACH_", "DATABASE_URL"))}
    return {**base, "DATABASE_URL": db_url, "COACH_DATA_DIR": str(tmp_path)}


def test_serve_refuses_to_start_without_settings_and_says_which(env):
    r = run_coach(env, "serve", "--port", "0")
    assert r.returncode == 1
    assert "SLACK_BOT_TOKEN must be the app's Bot User OAuth Token" in r.stderr
    assert "SLACK_SIGNING_SECRET is not set" in r.stderr
    assert "Traceback" not in r.stderr
    r = run_coach({**env, "SLACK_BOT_TOKEN": "xoxb-1"}, "serve", "--socket-mode")
    assert "SLACK_APP_TOKEN must be an app-level token" in r.stderr


def test_serve_refuses_a_token_slack_rejects(env):
    with FakeSlack(expected_token="xoxb-right") as fake:
        run_coach(env, "init")
        r = run_coach({**env, "SLACK_BOT_TOKEN": "xoxb-wrong", "SLACK_SIGNING_SECRET": SECRET,
                       "SLACK_API_URL": fake.base_url}, "serve", "--port", "0")
    assert r.returncode == 1
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in r.stderr


def test_serve_http_mode_end_to_end(env):
    with FakeSlack(expected_token="xoxb-right") as fake:
        assert run_coach(env, "init").returncode == 0
        org = os.path.join(env["COACH_DATA_DIR"], "org.csv")
        with open(org, "w") as f:
            f.write("email,name,manager_email,slack_user_id,timezone,country\nrep@x.io,Rep,,U0REP,UTC,\n")
        assert run_coach(env, "org", "import", org).returncode == 0
        fake.add_user("U0REP", email="rep@x.io", name="rep")
        port = free_port()
        proc = subprocess.Popen(
            [*COACH, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**env, "SLACK_BOT_TOKEN": "xoxb-right", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.base_url},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        try:
            health = f"http://127.0.0.1:{port}/healthz"
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(health, timeout=2) as r:
                        assert json.loads(r.read())["ok"] is True
                        break
                except OSError:
                    assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                    assert time.monotonic() < deadline, "coach serve did not become healthy"
                    time.sleep(0.2)
            slack = SlackSender(f"http://127.0.0.1:{port}/slack/events", fake)
            answer, url = slack.command("/deal", "help", user="U0REP")
            assert answer.status == 200
            assert "/deal advance" in all_text(wait_reply(fake, url)["blocks"])
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_a_second_serve_on_a_busy_port_says_so_and_schedules_nothing(env):
    with FakeSlack(expected_token="xoxb-right") as fake, socket.socket() as busy:
        assert run_coach(env, "init").returncode == 0
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = run_coach({**env, "SLACK_BOT_TOKEN": "xoxb-right", "SLACK_SIGNING_SECRET": SECRET,
                       "SLACK_API_URL": fake.base_url, "COACH_LOG_LEVEL": "INFO"},
                      "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "INFO")
    assert r.returncode == 1, r.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in r.stderr and "--port" in r.stderr
    assert "cannot use the file" not in r.stderr and "Traceback" not in r.stderr
    assert "scheduler started" not in r.stderr  # it failed before scheduling anything


def test_socket_mode_with_a_wrong_app_token_is_one_clear_line(env):
    with FakeSlack(expected_token="xoxb-right", app_token="xapp-right") as fake:
        assert run_coach(env, "init").returncode == 0
        r = run_coach({**env, "SLACK_BOT_TOKEN": "xoxb-right", "SLACK_APP_TOKEN": "xapp-wrong",
                       "SLACK_API_URL": fake.base_url}, "serve", "--socket-mode", "--no-scheduler")
    assert r.returncode == 1
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in r.stderr and "connections:write" in r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("apps.connections.open") == 0, r.stderr

