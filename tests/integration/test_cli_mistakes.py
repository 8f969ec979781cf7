"""Every `coach` command, given the mistakes a newcomer makes: each gets a clear message and a
non-zero exit, never a traceback."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"
SETTINGS = ("DATABASE_URL", "COACH_CONFIG", "COACH_PLAYBOOK", "COACH_ADMINS", "COACH_CHECKIN", "COACH_REMINDERS",
            "COACH_DIGESTS", "COACH_GRACE_HOURS", "COACH_BANT_STALE_WEEKS", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET",
            "SLACK_APP_TOKEN", "SLACK_API_URL")


REFUSED = 1  # tcpmux: nothing listens there (and no test binds it), so a connection is refused at once
NOWHERE = f"http://127.0.0.1:{REFUSED}/api/"
SLACK = {"SLACK_BOT_TOKEN": "xoxb-1-2", "SLACK_SIGNING_SECRET": "secret"}


@dataclass(frozen=True)
class Mistake:
    args: tuple[str, ...]
    says: tuple[str, ...]  # each must be in the output
    env: dict[str, str] = field(default_factory=dict)
    db: str = "ready"  # "ready": initialised with the example org and deals; "fresh": never initialised
    status: int = 1

    @staticmethod
    def of(cmd: str, *says: str, env: dict[str, str] | None = None, db: str = "ready", status: int = 1) -> Mistake:
        return Mistake(tuple(cmd.split()), says, env or {}, db, status)


M = Mistake.of
MISTAKES = {
    # The database and the settings.
    "malformed DATABASE_URL": M("org show", "DATABASE_URL 'notaurl' is not a database URL", "sqlite:///PATH",
                                "postgresql://USER:PASSWORD@HOST:PORT/DATABASE", env={"DATABASE_URL": "notaurl"}),
    "unsupported DATABASE_URL": M("init", "DATABASE_URL mysql://root:***@db/coach is not supported",
                                  "postgresql://USER", env={"DATABASE_URL": "mysql://root:secret@db/coach"}),
    "DATABASE_URL of an unknown backend": M("org show", "DATABASE_URL nosuchdb://x/coach is not supported",
                                            env={"DATABASE_URL": "nosuchdb://x/coach"}),
    "PostgreSQL not running": M("org show", "cannot use the database", "Connection refused", "check DATABASE_URL",
                                env={"DATABASE_URL": f"postgresql://coach@127.0.0.1:{REFUSED}/coach"}),
    "SQLite file where no folder can be made": M("init", "cannot use /proc/nope", "No such file or directory",
                                                 env={"DATABASE_URL": "sqlite:////proc/nope/coach.db"}),
    "config file that is not TOML": M(f"--config {EXAMPLES / 'org.csv'} org show", "is not valid TOML"),
    "missing config file": M("org show", "config file /nope/coach.toml does not exist",
                             env={"COACH_CONFIG": "/nope/coach.toml"}),
    "bad cadence setting": M("org show", "cadence settings", "COACH_CHECKIN='mon 09:00'",
                             env={"COACH_CHECKIN": "monday morning"}),
    "bad grace hours": M("tick --at 2026-11-30T09:00Z", "cadence settings", "COACH_GRACE_HOURS=12",
                         env={"COACH_GRACE_HOURS": "twelve"}),
    "unknown playbook": M("init", "the playbook is invalid", "nope: no such file",
                          "one of: default, industrial", env={"COACH_PLAYBOOK": "nope"}),
    "unknown schema revision": M("db upgrade --revision nope", "Can't locate revision", "coach db current"),
    # Before `coach init`.
    "org show before init": M("org show", "does not exist: run `coach init`", db="fresh"),
    "org import before init": M(f"org import {EXAMPLES / 'org.csv'}", "does not exist: run `coach init`",
                                db="fresh"),
    "deals list before init": M("deals list", "does not exist: run `coach init`", db="fresh"),
    "status before init": M("status", "does not exist: run `coach init`", db="fresh"),
    "shell before init": M("shell --as grace.hopper@example.com", "does not exist: run `coach init`",
                           db="fresh"),
    # Files.
    "org file not found": M("org import nope.csv", "nope.csv: file not found", "nothing was imported"),
    "deals file not found": M("deals import nope.csv", "nope.csv: file not found"),
    "deals file is the org file": M(f"deals import {EXAMPLES / 'org.csv'}", "missing columns ref, account",
                                    "expected header: ref,name,account"),
    "org file is not CSV": M(f"org import {Path(__file__)}", "nothing was imported", "expected header: email,name"),
    "export into a missing folder": M("deals export /nope/dir/deals.csv", "cannot use /nope/dir/deals.csv",
                                      "No such file or directory"),
    "export onto a folder": M("deals export /tmp", "is a directory", status=2),
    "playbook file not found": M("playbook check nope.yaml", "nope.yaml: no such file"),
    "playbook that is not YAML": M(f"playbook check {EXAMPLES / 'org.csv'}", "problem", "org.csv"),
    "unknown playbook name": M("playbook show nope", "the playbook is invalid", "one of: default, industrial"),
    # People, dates, options.
    "unknown owner": M("deals list --owner nobody@example.com", "nobody@example.com"),
    "unknown language": M("deals list --lang fr", "'fr' is not one of 'en', 'zh'", status=2),
    "shell as a stranger": M("shell --as nobody@example.com", "nobody@example.com is not in the org",
                             "coach org show"),
    "shell without --as": M("shell", "Missing option '--as'", status=2),
    "shell at a bad time": M("shell --as grace.hopper@example.com --at tomorrow", "--at 'tomorrow' is not an ISO-8601"),
    "tick at a bad time": M("tick --at yesterday", "is not an ISO-8601 time", env=SLACK),
    "tick without a timezone": M("tick --at 2026-11-30T09:00", "has no timezone", env=SLACK),
    "status over zero days": M("status --days 0", "0 is not in the range", status=2),
    "status at a bad time": M("status --at monday", "--at 'monday' is not an ISO-8601 time"),
    "status without a timezone": M("status --at 2026-11-30T09:00", "has no timezone"),
    "serve on a bad port": M("serve --port 99999", "99999 is not in the range", status=2),
    "unknown command": M("deploy", "No such command 'deploy'", status=2),
    # Slack.
    "tick without a token": M("tick", "SLACK_BOT_TOKEN is not set"),
    "serve without settings": M("serve", "cannot start", "SLACK_BOT_TOKEN must be", "SLACK_SIGNING_SECRET is not set"),
    "socket mode without app token": M("serve --socket-mode", "SLACK_APP_TOKEN must be an app-level token",
                                       env=SLACK),
    "serve with Slack unreachable": M("serve --no-scheduler", f"cannot reach Slack's Web API at {NOWHERE}",
                                      "Connection refused", "check SLACK_API_URL",
                                      env={**SLACK, "SLACK_API_URL": NOWHERE}),
    "tick with Slack unreachable": M("tick --at 2026-11-30T09:00Z", f"cannot reach Slack's Web API at {NOWHERE}",
                                     "check SLACK_API_URL", env={**SLACK, "SLACK_API_URL": NOWHERE}),
    "tick with a malformed Slack URL": M("tick", "cannot reach Slack's Web API at notaurl/", "check SLACK_API_URL",
                                         env={**SLACK, "SLACK_API_URL": "notaurl"}),
    "org sync without a token": M("org sync", "SLACK_BOT_TOKEN is not set"),
    "org sync with Slack unreachable": M("org sync", f"cannot reach Slack's Web API at {NOWHERE}", "check SLACK_API_URL",
                                         env={**SLACK, "SLACK_API_URL": NOWHERE}),
    # The demo.
    "demo with half of its files": M(f"demo --org {EXAMPLES / 'org.csv'}", "give both --org FILE and --deals FILE"),
    "demo with a missing file": M("demo --org nope.csv --deals nope.csv", "'nope.csv' does not exist", status=2),
    "demo with an unknown playbook": M("demo --playbook nope", "the playbook is invalid"),
    "demo into a file": M(f"demo --out {EXAMPLES / 'org.csv'}", "is a file", status=2),
}


@pytest.fixture(scope="module")
def ready_db(tmp_path_factory) -> Path:
    """An initialised database with the example org and deals; every mistake leaves it as it was."""
    path = tmp_path_factory.mktemp("ready") / "coach.db"
    runner = CliRunner()
    env = {"DATABASE_URL": f"sqlite:///{path}", "COACH_DATA_DIR": str(path.parent)}
    for args in (["init"], ["org", "import", str(EXAMPLES / "org.csv")], ["deals", "import", str(EXAMPLES / "deals.csv")]):
        result = runner.invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
    return path


@pytest.mark.parametrize("mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_mistake_gets_a_clear_message_and_a_non_zero_exit(mistake: Mistake, ready_db, tmp_path, monkeypatch):
    for var in SETTINGS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # relative file names (nope.csv) are looked up here
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    if mistake.db == "ready":
        for part in ready_db.parent.glob("coach.db*"):  # SQLite runs in WAL mode: the -wal file too
            shutil.copy(part, tmp_path / part.name)
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'coach.db'}")
    for name, value in mistake.env.items():
        monkeypatch.setenv(name, value)

    result = CliRunner().invoke(main, list(mistake.args))

    out = result.output
    assert result.exit_code == mistake.status, out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in out and "Error" in out
    for words in mistake.says:
        assert words in out, out
    assert len(out.splitlines()) <= 8, out  # a clear message, not a wall of text


@pytest.mark.parametrize("command", ["status", "org show", "deals list", "report --as a@b.c", "tick"])
def test_a_command_on_a_database_that_does_not_exist_creates_nothing(command, tmp_path, monkeypatch):
    for var in SETTINGS:
        monkeypatch.delenv(var, raising=False)
    nowhere = tmp_path / "not" / "yet" / "coach.db"
    env = {"DATABASE_URL": f"sqlite:///{nowhere}", "COACH_DATA_DIR": str(tmp_path / "data"), **SLACK,
           "SLACK_API_URL": NOWHERE}
    result = CliRunner().invoke(main, command.split(), env=env)
    assert result.exit_code == 1 and f"the database {nowhere} does not exist: run `coach init`" in result.output
    assert not (tmp_path / "not").exists()  # no folder, no empty database


def test_a_reader_that_goes_away_ends_the_command_quietly(capfd):
    """`coach deals list | head`: once head has its lines, writing more fails with EPIPE. That is no
    error of the person's (it was "cannot use the file: Broken pipe"). Raised directly here: this
    sandbox's pipes do not always report EPIPE to the writer."""
    import click

    from bot.cli import friendly

    @click.command()
    @friendly
    def listing() -> None:
        click.echo("first line")
        raise BrokenPipeError(32, "Broken pipe")

    result = CliRunner().invoke(listing, [])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1
    assert "Broken pipe" not in result.output and "cannot use" not in result.output
