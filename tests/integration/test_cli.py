"""The ``coach`` command end to end, as a person runs it, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"


@pytest.fixture
def coach(db_url, tmp_path, monkeypatch):
    """Run ``coach ARGS`` in-process against a fresh database; returns the click Result."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    for var in ("COACH_PLAYBOOK", "COACH_CONFIG", "COACH_ADMINS"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_fresh_database_to_imported_org_and_deals(coach):
    r = coach("init")
    assert r.exit_code == 0, r.output
    assert "Database ready" in r.output and "target, prospect, interested" in r.output
    r = coach("org", "import", str(EXAMPLES / "org.csv"))
    assert r.exit_code == 0, r.output
    assert "46 added, 0 updated" in r.output
    r = coach("deals", "import", str(EXAMPLES / "deals.csv"))
    assert r.exit_code == 0, r.output
    assert "90 added" in r.output
    r = coach("init")  # safe to run again
    assert r.exit_code == 0
    r = coach("deals", "list", "--owner", "tim.bernerslee@example.com")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Pipeline for Tim Berners-Lee:")
    assert "to reach" in r.output  # gate coaching per deal
    r = coach("org", "show")
    assert "Grace Hopper <grace.hopper@example.com> tier 4" in r.output
    assert "    Alan Turing <alan.turing@example.com> tier 2" in r.output


def test_commands_before_init_say_to_run_init(coach):
    r = coach("org", "import", str(EXAMPLES / "org.csv"))
    assert r.exit_code == 1
    # SQLite: no file yet (and none is made); PostgreSQL: an empty database
    assert ("does not exist: run `coach init`" in r.output) != ("is not initialised: run `coach init`" in r.output)
    assert "Traceback" not in r.output


def test_bad_import_lists_lines_and_exits_nonzero(coach, tmp_path):
    coach("init")
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name,manager_email,slack_user_id,timezone,country\na@x.io,A,nobody@x.io,,,\n")
    r = coach("org", "import", str(bad))
    assert r.exit_code == 1
    assert f"{bad}:2: unknown manager nobody@x.io" in r.output
    assert "nothing was imported" in r.output
    assert "0 added" not in coach("org", "show").output


def test_export_to_stdout_and_file(coach, tmp_path):
    coach("init")
    coach("org", "import", str(EXAMPLES / "org.csv"))
    coach("deals", "import", str(EXAMPLES / "deals.csv"))
    out = tmp_path / "x.csv"
    r = coach("deals", "export", str(out))
    assert r.exit_code == 0
    assert out.read_text() == (EXAMPLES / "deals.csv").read_text()
    r = coach("deals", "export")
    assert r.output.splitlines()[0] == "ref,name,account,owner_email,amount,currency,stage,close_date,next_step"


def test_unknown_playbook_setting_is_a_clear_error(coach, monkeypatch):
    monkeypatch.setenv("COACH_PLAYBOOK", "/nope/playbook.yaml")
    r = coach("init")
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    assert "playbook" in r.output.lower()


@pytest.mark.parametrize(
    "args",
    [[], ["init"], ["db", "upgrade"], ["db", "copy"], ["db", "backup"], ["db", "restore"], ["playbook", "check"],
     ["playbook", "show"], ["org", "import"],
     ["org", "show"], ["deals", "import"], ["deals", "export"], ["deals", "list"], ["tick"], ["status"], ["serve"]],
)
def test_help_everywhere(args):
    r = CliRunner().invoke(main, [*args, "--help"])
    assert r.exit_code == 0
    assert r.output.startswith("Usage: ")


def test_console_script_is_installed():
    # The `coach` entry point exists for the interpreter running the tests.
    bindir = Path(sys.executable).parent
    exe = bindir / "coach"
    if not exe.exists():
        pytest.skip("package not installed with pip (pip install -e .)")
    r = subprocess.run([str(exe), "--help"], capture_output=True, text=True, env={**os.environ}, check=False)
    assert r.returncode == 0 and "Pipeline Coach" in r.stdout


def test_tick_explains_bad_times_and_missing_slack_settings(coach, monkeypatch):
    assert coach("init").exit_code == 0
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    r = coach("tick", "--at", "2026-11-23T09:00Z")
    assert r.exit_code == 1 and "SLACK_BOT_TOKEN is not set" in r.output
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    r = coach("tick", "--at", "next monday")
    assert r.exit_code == 1 and "is not an ISO-8601 time" in r.output
    r = coach("tick", "--at", "2026-11-23T09:00")
    assert r.exit_code == 1 and "has no timezone" in r.output


def test_status_on_an_empty_ledger(coach):
    assert coach("init").exit_code == 0
    r = coach("status")
    assert r.exit_code == 0 and "0 sent (0 late), 0 in flight, 0 failed" in r.output
