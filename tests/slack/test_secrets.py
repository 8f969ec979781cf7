"""No secret is ever written down: the bot runs with distinctive token, secret and password values
through its error paths (wrong tokens, an unreachable Slack and database, forged and junk requests,
debug logging), and everything it printed or logged is searched for them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from bot.fakeslack import FakeSlack
from tests.slack.harness import SlackSender
from tests.slack.test_serve import free_port

COACH = [sys.executable, "-m", "bot.cli"]
BOT_TOKEN = "xoxb-4242-SECRETBOTTOKEN-zq9"
APP_TOKEN = "xapp-1-SECRETAPPTOKEN-zq9"
SIGNING_SECRET = "SECRETSIGNING0zq9"
DB_PASSWORD = "SECRETDBPASSWORD0zq9"
SECRETS = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, DB_PASSWORD, "SECRETBOTTOKEN", "SECRETAPPTOKEN", "SECRETSIGNING",
           "SECRETDBPASSWORD")
REFUSED = 1  # nothing listens on port 1


@pytest.fixture
def env(tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COACH_", "DATABASE_URL"))}
    return {**base, "DATABASE_URL": f"sqlite:///{tmp_path / 'coach.db'}", "COACH_DATA_DIR": str(tmp_path)}


def _run(env: dict[str, str], *args: str, timeout: float = 60) -> str:
    r = subprocess.run([*COACH, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return r.stdout + r.stderr


def test_no_secret_reaches_any_output_or_log(env, tmp_path):
    written: list[str] = [_run(env, "init")]
    with FakeSlack(expected_token="xoxb-the-right-one", app_token="xapp-the-right-one") as fake:
        api = {"SLACK_API_URL": fake.base_url}
        wrong = {**env, **api, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                 "SLACK_APP_TOKEN": APP_TOKEN}
        written.append(_run(wrong, "serve", "--port", "0", "--log-level", "DEBUG"))  # the bot token refused
        written.append(_run(wrong, "tick", "--log-level", "DEBUG"))
        written.append(_run(wrong, "org", "sync"))
        right_bot = {**wrong, "SLACK_BOT_TOKEN": "xoxb-the-right-one"}
        written.append(_run(right_bot, "serve", "--socket-mode", "--no-scheduler", "--log-level", "DEBUG"))
        nowhere = {**wrong, "SLACK_API_URL": f"http://127.0.0.1:{REFUSED}/api/"}
        written.append(_run(nowhere, "tick", "--log-level", "DEBUG"))
        pg = {**wrong, "DATABASE_URL": f"postgresql+psycopg://coach:{DB_PASSWORD}@127.0.0.1:{REFUSED}/coach"}
        for args in (("init",), ("status",), ("org", "show"), ("db", "current"), ("tick",)):
            written.append(_run(pg, *args))

        # A running server, sent forged, stale and junk requests, at DEBUG.
        port = free_port()
        log = tmp_path / "serve.log"
        with log.open("w") as out:
            proc = subprocess.Popen([*COACH, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler",
                                     "--log-level", "DEBUG"], env=right_bot, stdout=out, stderr=subprocess.STDOUT)
            try:
                _wait_healthy(port, proc)
                slack = SlackSender(f"http://127.0.0.1:{port}/slack/events", fake)
                body = b"command=%2Fdeal&text=help&user_id=U0000001"
                for headers in ({"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
                                {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"},
                                {}):
                    slack.post(body, "application/x-www-form-urlencoded", headers=headers, signed=False)
                slack.post(b"payload=%7Bnot+json", "application/x-www-form-urlencoded")
                slack.command("/deal", "show D-1", user="U0NOBODY")
                time.sleep(1.0)
            finally:
                proc.terminate()
                proc.wait(timeout=20)
        written.append(log.read_text())
        written.append("\n".join(str(c.params) for c in fake.calls))  # what went to Slack itself
    text = "\n".join(written)
    assert "Slack rejected SLACK_BOT_TOKEN" in text and "cannot use the database" in text  # the paths were taken
    assert "Refused a request" in text or "refused a request" in text
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"{leaked} written in: " + "\n".join(
        line for line in text.splitlines() if any(s in line for s in leaked))[:2000]


def _wait_healthy(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            assert proc.poll() is None, "coach serve stopped"
            assert time.monotonic() < deadline, "coach serve did not become healthy"
            time.sleep(0.2)
