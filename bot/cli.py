"""The ``coach`` command. Each subcommand builds its dependencies the same way
the Slack app does, and turns every expected failure into a clear message."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import alembic.util
import click
import sqlalchemy as sa
import sqlalchemy.orm as so

from bot import i18n
from bot.config import ConfigError, load_settings
from bot.db import migrate
from bot.db.engine import transaction
from bot.deps import Deps, build_deps
from bot.imports.csvfile import ImportRefused
from bot.imports.mapping import PRESETS, MappingError
from bot.playbooks import loader as playbooks

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> None:
    raise click.ClickException(message)


def friendly(fn: F) -> F:
    """Expected errors become one clear message and exit status 1, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as e:
            _fail(str(e))
        except playbooks.PlaybookError as e:
            _fail("the playbook is invalid:\n" + "\n".join(f"  {p}" for p in e.problems)
                  + "\n(check it with: coach playbook check FILE)")
        except ImportRefused as e:
            _fail(e.report())
        except MappingError as e:
            _fail(str(e))
        except sa.exc.OperationalError as e:
            _fail(f"cannot use the database: {e.orig}\n(check DATABASE_URL, then run: coach init)")
        except alembic.util.CommandError as e:
            _fail(f"{e} (`coach db current` shows the newest revision; `coach db upgrade` goes there)")
        except BrokenPipeError:  # `coach deals list | head`: the reader has all it wanted
            with contextlib.suppress(OSError, ValueError):  # stdout may be no file at all
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
            sys.exit(1)
        except OSError as e:  # a file or folder named on the command line
            _fail(f"cannot use {e.filename or 'the file'}: {e.strerror or e}")

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), envvar="COACH_CONFIG",
              help="A TOML settings file (default: $COACH_CONFIG). Environment variables override it.")
@click.version_option(package_name="pipeline-coach")
@click.pass_context
def main(ctx: click.Context, config_file: Path | None) -> None:
    """Pipeline Coach: the weekly sales pipeline review, in Slack.

    Settings come from the environment (DATABASE_URL, COACH_PLAYBOOK,
    COACH_ADMINS, ...) or a TOML file. Start with `coach init`.
    """
    ctx.obj = {"config_file": config_file}


def deps_from(ctx: click.Context) -> Deps:
    try:
        return build_deps(load_settings(config_file=ctx.find_root().obj["config_file"]))
    except ConfigError as e:
        raise click.ClickException(str(e)) from e


@contextmanager
def ready_db(deps: Deps) -> Iterator[so.Session]:
    """A transaction on a database that is migrated to the current schema."""
    url = sa.make_url(deps.settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).expanduser().exists():  # before the engine, which would create it
        _fail(f"the database {url.database} does not exist: run `coach init` to create it "
              "(or point DATABASE_URL at yours)")
    current = migrate.current_revision(deps.engine)
    if current != migrate.head_revision():
        where = sa.make_url(deps.settings.database_url).render_as_string(hide_password=True)
        state = "is not initialised" if current is None else f"is at schema {current}, not the current one"
        _fail(f"the database {where} {state}: run `coach init` (or `coach db upgrade`)")
    with transaction(deps.sessions) as session:
        yield session


# --- init / db ---------------------------------------------------------------


@main.command()
@click.pass_context
@friendly
def init(ctx: click.Context) -> None:
    """Create or upgrade the database and check the playbook. Safe to run again."""
    deps = deps_from(ctx)
    pb = deps.playbook
    fresh = migrate.current_revision(deps.engine) is None
    migrate.upgrade(deps.engine)
    if fresh:
        from bot.services.golive import mark_live

        with transaction(deps.sessions) as session:
            mark_live(session, now=deps.clock.now(), why="installed")
    where = sa.make_url(deps.settings.database_url).render_as_string(hide_password=True)
    click.echo(f"Database ready: {where} (schema {migrate.current_revision(deps.engine)})")
    click.echo(f"Playbook: {pb.name.en} ({len(pb.stages)} stages: {', '.join(pb.keys)})")
    click.echo("Next: coach org import ORG.csv, then coach deals import DEALS.csv")


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Migrate to this revision.")
@click.pass_context
@friendly
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply the schema migrations (Alembic)."""
    deps = deps_from(ctx)
    migrate.upgrade(deps.engine, revision)
    click.echo(f"Database at schema {migrate.current_revision(deps.engine)}")


@db.command("current")
@click.pass_context
@friendly
def db_current(ctx: click.Context) -> None:
    """Print the database's schema revision and the newest one this version knows."""
    deps = deps_from(ctx)
    click.echo(f"database: {migrate.current_revision(deps.engine) or 'empty'}; newest: {migrate.head_revision()}")


@db.command("copy")
@click.option("--to", "to_url", required=True, metavar="URL",
              help="The empty database to copy into, e.g. postgresql+psycopg://user:pw@host/coach.")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1, 100_000), help="Rows per insert.")
@click.pass_context
@friendly
def db_copy(ctx: click.Context, to_url: str, batch: int) -> None:
    """Copy every table of the database (DATABASE_URL) into the EMPTY database at URL, e.g. from
    the embedded SQLite to PostgreSQL. URL is migrated to the current schema first; the copy is one
    transaction there (a failed copy leaves it empty) and the source is only read. Then both are
    read back: rows and a checksum per table; exit status 1 if any differs.
    """
    from bot.db.copy import CopyFailed, CopyRefused, copy_database
    from bot.db.engine import make_engine

    deps = deps_from(ctx)
    with ready_db(deps):  # the source exists and is at the current schema
        pass
    from bot.config import normal_database_url

    try:
        to_url = normal_database_url(to_url)
    except ConfigError as e:
        _fail(str(e).replace("DATABASE_URL", "--to", 1))
    target_url = sa.make_url(to_url)
    if target_url.get_backend_name() == "sqlite" and target_url.database not in (None, "", ":memory:") \
            and not Path(target_url.database).expanduser().parent.exists():
        _fail(f"the folder of {target_url.database} does not exist: create it first")
    try:
        target = make_engine(to_url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as e:
        _fail(f"cannot use --to {target_url.render_as_string(hide_password=True)}: {e}")
        return
    where = target_url.render_as_string(hide_password=True)
    click.echo(f"Copying {sa.make_url(deps.settings.database_url).render_as_string(hide_password=True)} "
               f"to {where} ...", err=True)
    try:
        report = copy_database(deps.engine, target, batch=batch)
    except CopyRefused as e:
        _fail(str(e))
        return
    except CopyFailed as e:
        _fail(f"{e}\nNothing was kept: the target {where} was rolled back and is empty.")
        return
    except sa.exc.OperationalError as e:
        _fail(f"cannot use the target database {where}: {e.orig}\n(check --to; the target was left empty)")
        return
    finally:
        target.dispose()
    for line in report.lines():
        click.echo(line)
    n = len(report.tables)
    if not report.ok:
        bad = [t.table for t in report.tables if not t.ok]
        _fail(f"the copy differs from the source in {len(bad)} of {n} tables ({', '.join(bad)}): "
              "do not switch to it; report this with the table above")
    click.echo(f"Copied {report.rows} rows in {n} tables in {report.seconds:.1f} s; every count and checksum "
               f"matches. Next: set DATABASE_URL to {where} and start `coach serve`.")


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@friendly
def db_backup(ctx: click.Context, file: Path) -> None:
    """Write a consistent copy of the SQLite database to the new FILE, with SQLite's online
    backup API: safe while `coach serve` runs. (PostgreSQL: use pg_dump.)"""
    from bot.db.backup import BackupRefused, backup

    settings = load_settings(config_file=ctx.find_root().obj["config_file"])
    try:
        revision, rows = backup(settings.database_url, file)
    except BackupRefused as e:
        _fail(str(e))
        return
    click.echo(f"Backed up {rows} rows (schema {revision}) to {file}; put it back with `coach db restore {file}`")


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that has data.")
@click.pass_context
@friendly
def db_restore(ctx: click.Context, file: Path, force: bool) -> None:
    """Replace the SQLite database with the backup FILE (from `coach db backup`). Refused while
    the database is in use (stop `coach serve` first), and over one with data unless --force.
    (PostgreSQL: use pg_restore.)"""
    from bot.db.backup import BackupRefused, restore

    settings = load_settings(config_file=ctx.find_root().obj["config_file"])
    try:
        done = restore(settings.database_url, file, force=force)
    except BackupRefused as e:
        _fail(str(e))
        return
    click.echo(f"Restored {done.rows} rows (schema {done.revision}) from {file}")
    if done.revision != migrate.head_revision():
        click.echo(f"The backup is at an older schema: run `coach db upgrade` (newest: {migrate.head_revision()})")


# --- playbook ----------------------------------------------------------------


@main.group()
def playbook() -> None:
    """Inspect and validate sales playbooks."""


@playbook.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", "langs", multiple=True, type=click.Choice(list(i18n.LANGUAGES)),
              help="Also require texts in this language (repeatable); the workspace's languages always are.")
@click.pass_context
def playbook_check(ctx: click.Context, file: Path, langs: tuple[str, ...]) -> None:
    """Validate a playbook FILE and list every problem with its line, and every text missing
    a language the workspace uses (COACH_LANGUAGE and the languages of the people in the org)."""
    problems = playbooks.check_playbook(file)
    if problems:
        for p in problems:
            click.echo(str(p), err=True)
        _fail(f"{len(problems)} {'problem' if len(problems) == 1 else 'problems'} in {file}")
    pb = playbooks.load_playbook(file)
    used = _workspace_languages(ctx) | set(langs)
    missing = playbooks.missing_languages(pb, used)
    if missing:
        for m in missing:
            click.echo(f"{file}: {m}", err=True)
        _fail(f"{len(missing)} {'text lacks' if len(missing) == 1 else 'texts lack'} a language the workspace uses "
              f"({', '.join(sorted(used))}); add it next to `en:` in {file}")
    click.echo(f"{file}: OK ({pb.name.en}: {', '.join(pb.keys)}; languages {', '.join(sorted(used))})")


def _workspace_languages(ctx: click.Context) -> set[str]:
    """COACH_LANGUAGE, and the language of each person in the org when the database is set up."""
    try:
        deps = build_deps(load_settings(config_file=ctx.find_root().obj["config_file"]))
    except (ConfigError, KeyError, TypeError, AttributeError):
        return {i18n.DEFAULT}
    from bot.db.models import Person

    used = {i18n.DEFAULT, deps.settings.language}
    try:
        if migrate.current_revision(deps.engine) == migrate.head_revision():
            with transaction(deps.sessions) as s:
                for language, locale in s.execute(sa.select(Person.language, Person.slack_locale).distinct()):
                    used.add(i18n.normalize(language) or i18n.normalize(locale) or deps.settings.language)
    except sa.exc.SQLAlchemyError:
        pass  # no database yet: the workspace default alone
    finally:
        deps.engine.dispose()
    return used


@playbook.command("show")
@click.argument("name_or_file", required=False)
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.pass_context
@friendly
def playbook_show(ctx: click.Context, name_or_file: str | None, lang: str) -> None:
    """Print the active playbook (or NAME_OR_FILE: default, industrial, or a path)."""
    pb = playbooks.load_playbook(name_or_file) if name_or_file else deps_from(ctx).playbook
    click.echo(playbooks.describe_playbook(pb, lang))


# --- org ---------------------------------------------------------------------


@main.group()
def org() -> None:
    """The people the bot serves and who reports to whom."""


@org.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@friendly
def org_import(ctx: click.Context, file: Path) -> None:
    """Import people from FILE (CSV: email,name,manager_email,slack_user_id,timezone,country).

    Re-importing updates people in place. If any line has a problem, every
    problem is listed and nothing is written.
    """
    from bot.imports.org_csv import import_org

    deps = deps_from(ctx)
    with ready_db(deps) as session:
        result = import_org(session, file, now=deps.clock.now())
    click.echo(f"Org imported from {file}: {result.created} added, {result.updated} updated")


@org.command("show")
@click.pass_context
@friendly
def org_show(ctx: click.Context) -> None:
    """Print the org tree with each person's tier."""
    from bot.db.models import Person

    deps = deps_from(ctx)
    with ready_db(deps) as session:
        people = list(session.scalars(sa.select(Person).order_by(Person.email)))
        if not people:
            _fail("the org is empty: import it with `coach org import FILE.csv`")
        for top in (p for p in people if p.manager is None):
            _echo_tree(top, 0)


@org.command("sync")
@click.pass_context
@friendly
def org_sync(ctx: click.Context) -> None:
    """Read everyone's Slack profile now: fill the Slack ids and timezones the org file left
    empty, follow timezone moves, mark deactivated accounts. The scheduler does this daily.

    Profiles that could not be read are listed with the reason (exit status 1); nothing is defaulted.
    """
    from bot.services.profiles import SourceUnavailable, sync_profiles
    from bot.slack.client import verify_slack, web_client
    from bot.slack.directory import SlackProfiles

    deps = deps_from(ctx)
    if not deps.settings.slack_bot_token:
        _fail("org sync reads Slack's profiles, and SLACK_BOT_TOKEN is not set: set it (see the README's Slack "
              "app section)")
    with ready_db(deps):
        pass
    client = web_client(deps.settings)
    verify_slack(client)  # a wrong token or an unreachable Slack: one line, not one failure per person
    source = SlackProfiles(client)
    with ready_db(deps) as session:
        try:
            report = sync_profiles(session, source, now=deps.clock.now())
        except SourceUnavailable as e:
            _fail(f"could not read Slack's user list ({e}); nothing was changed. Check SLACK_BOT_TOKEN "
                  "and that the app has the users:read and users:read.email scopes")
            return
    click.echo(report.summary())
    for email, changes in report.changed:
        click.echo(f"  {email}: {', '.join(changes)}")
    for email in report.deactivated:
        click.echo(f"  {email}: deactivated in Slack, gets nothing")
    for email, reason in report.problems:
        click.echo(f"  not read: {email}: {reason}", err=True)
    if report.problems:
        sys.exit(1)


def _echo_tree(person: Any, depth: int) -> None:
    extra = ", ".join(x for x in (person.timezone, person.country, person.slack_user_id,
                                  "deactivated in Slack" if person.deactivated else None) if x)
    click.echo(f"{'  ' * depth}{person.name} <{person.email}> tier {person.tier}" + (f" ({extra})" if extra else ""))
    for r in person.reports:
        _echo_tree(r, depth + 1)


# --- rates -------------------------------------------------------------------


@main.group()
def rates() -> None:
    """The company's exchange rates, for totals in one reporting currency."""


@rates.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@friendly
def rates_import(ctx: click.Context, file: Path) -> None:
    """Import dated exchange rates from FILE (CSV: date,from,to,rate).

    A line ``2026-11-01,EUR,USD,1.08`` says that from 1 Nov 2026 one EUR is
    worth 1.08 USD. Digests total in the reporting currency
    (COACH_REPORTING_CURRENCY, or a manager's own: /pipeline currency EUR)
    at the latest rate in force; the inverse, or a common currency both are
    quoted against, is used when the pair itself is not given. If any line
    has a problem, every problem is listed and nothing is written.
    """
    from bot.imports.rates_csv import import_rates

    deps = deps_from(ctx)
    with ready_db(deps) as session:
        result = import_rates(session, file, now=deps.clock.now())
    click.echo(f"Rates imported from {file}: {result.created} added, {result.replaced} replaced")


# --- deals -------------------------------------------------------------------


@main.group()
def deals() -> None:
    """Import, export and list deals."""


def _mapping(mapping_file: Path | None, preset: str | None) -> Any:
    from bot.imports.mapping import load_mapping, load_preset

    if mapping_file is not None and preset is not None:
        _fail("give --mapping FILE or --preset NAME, not both")
    if mapping_file is not None:
        return load_mapping(mapping_file)
    return load_preset(preset) if preset is not None else None


_MAPPING = click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False, path_type=Path),
                        help="A mapping TOML file: the CRM export's columns, stage names, date format, owners.")
_PRESET = click.option("--preset", type=click.Choice(PRESETS),
                       help="A shipped mapping for a CRM's export (see `coach deals mapping show NAME`).")


@deals.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_MAPPING
@_PRESET
@click.option("--dry-run", is_flag=True, help="Print what would be added, updated, moved and closed; write nothing.")
@click.option("--full", is_flag=True, help="The file is the whole open pipeline: list open deals with a CRM id "
              "that it lacks.")
@click.option("--close-missing", is_flag=True, help="With --full: close those deals as lost "
              "(reason \"not in CRM export\").")
@click.option("--accept-renames", is_flag=True, help="Accept updates that change a deal's owner and name at once "
              "(refused by default: the sign of a file keyed by the wrong id).")
@click.option("--history", "history_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A separate stage-history file, one row per change (columns id,from,to,at,who, or as the "
                   "mapping's [history] names them): each new deal's path through the funnel.")
@click.pass_context
@friendly
def deals_import(ctx: click.Context, file: Path, mapping_file: Path | None, preset: str | None, dry_run: bool,
                 full: bool, close_missing: bool, accept_renames: bool, history_file: Path | None) -> None:
    """Import deals from FILE.

    Without --mapping/--preset, FILE is our CSV (ref,name,account,owner_email,amount,currency,stage,
    close_date,next_step): rows with a known ref update that deal; an empty ref gets a new one.

    With --mapping MAP.toml or --preset salesforce|hubspot|pipedrive, FILE is a CRM's export as it is:
    deals are matched by the CRM's id, their dates (created, each stage entered, closed) become the
    stage history, and the deal's ref stays ours. If any line has a problem, every problem is listed
    and nothing is written.
    """
    from bot.imports.deals_csv import import_deals

    mapping = _mapping(mapping_file, preset)
    deps = deps_from(ctx)
    pb = deps.playbook
    if mapping is None:
        if dry_run or full or close_missing or accept_renames or history_file:
            _fail("--dry-run, --full, --close-missing, --accept-renames and --history work on a CRM export: "
                  "add --mapping MAP.toml or --preset NAME")
        with ready_db(deps) as session:
            result = import_deals(session, file, pb, now=deps.clock.now())
            _went_live(session, deps, f"deals imported from {file.name}")
        click.echo(f"Deals imported from {file}: {result.created} added, {result.updated} updated")
        return
    from bot.imports.crm import import_crm

    with ready_db(deps) as session:
        plan = import_crm(session, file, mapping, pb, now=deps.clock.now(), dry_run=dry_run, full=full,
                          close_missing=close_missing, accept_renames=accept_renames, history=history_file)
        full = full or close_missing
        head = "Dry run, nothing written" if dry_run else f"Deals imported from {file}"
        click.echo(f"{head} ({mapping.name}): {plan.summary(full=full, close_missing=close_missing and not dry_run)}")
        for note in plan.notes():
            click.echo(f"  note: {note}")
        changes = plan.lines(pb, full=full, close_missing=close_missing and not dry_run)
        shown = changes if dry_run else changes[:20]
        for line in shown:
            click.echo(line)
        if len(changes) > len(shown):
            click.echo(f"  … and {len(changes) - len(shown)} more (--dry-run lists them all)")
        if not dry_run:
            _went_live(session, deps, f"deals imported from {file.name}")


def _went_live(session: so.Session, deps: Deps, why: str) -> None:
    """After an import the schedule starts from the next due moment (nothing that fell due before is sent)."""
    from bot.services.golive import mark_live

    mark_live(session, now=deps.clock.now(), why=why)
    click.echo("The schedule starts from the next due moment: nothing that fell due before now is sent.")


@deals.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@_MAPPING
@_PRESET
@click.pass_context
@friendly
def deals_export(ctx: click.Context, file: Path | None, mapping_file: Path | None, preset: str | None) -> None:
    """Write every deal as CSV to FILE (default: standard output), in the import format; with
    --mapping/--preset, in the CRM's columns, stage names and ids, to re-import into the CRM."""
    from bot.db.models import Deal
    from bot.imports.crm import export_crm
    from bot.imports.deals_csv import export_deals

    mapping = _mapping(mapping_file, preset)
    deps = deps_from(ctx)
    with ready_db(deps) as session:
        rows = list(session.scalars(sa.select(Deal).options(so.selectinload(Deal.owner),
                                                            so.selectinload(Deal.history))))

        def write(out: Any) -> int:
            if mapping is None:
                return export_deals(rows, out)
            mapping.check(deps.playbook)
            return export_crm(session, rows, out, mapping, deps.playbook)

        if file is None:
            write(sys.stdout)
            return
        with file.open("w", encoding="utf-8", newline="") as out:
            count = write(out)
    click.echo(f"{count} deals written to {file}", err=True)


@deals.group("mapping")
def deals_mapping() -> None:
    """The shipped mappings for CRM exports."""


@deals_mapping.command("show")
@click.argument("name", type=click.Choice(PRESETS))
@friendly
def deals_mapping_show(name: str) -> None:
    """Print the preset NAME, to copy and edit: coach deals mapping show salesforce > mine.toml"""
    from bot.imports.mapping import preset_text

    click.echo(preset_text(name), nl=False)


@deals.command("list")
@click.option("--owner", help="Only this person's deals (email), or everyone beneath them for a manager.")
@click.option("--all", "show_all", is_flag=True, help="Include won and lost deals.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.pass_context
@friendly
def deals_list(ctx: click.Context, owner: str | None, show_all: bool, lang: str) -> None:
    """List deals by stage, each with what it still needs for its next stage."""
    from bot.services.pipeline_text import pipeline_text

    deps = deps_from(ctx)
    pb = deps.playbook
    with ready_db(deps) as session:
        try:
            click.echo(pipeline_text(session, pb, owner=owner, include_closed=show_all, lang=lang,
                                     now=deps.clock.now()))
        except LookupError as e:
            _fail(str(e))


# --- serve -------------------------------------------------------------------


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, envvar="COACH_HOST", help="Address to bind (HTTP mode).")
@click.option("--port", default=3000, show_default=True, envvar="PORT", type=click.IntRange(0, 65535),
              help="Port to listen on (HTTP mode); also $PORT.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="HTTP worker threads.")
@click.option("--socket-mode", is_flag=True, help="Connect to Slack over Socket Mode (needs SLACK_APP_TOKEN) "
              "instead of serving HTTP.")
@click.option("--no-scheduler", is_flag=True, help="Don't run the weekly schedule in this process "
              "(e.g. when cron runs `coach tick`, or another instance schedules).")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@click.pass_context
@friendly
def serve(ctx: click.Context, host: str, port: int, threads: int, socket_mode: bool, no_scheduler: bool,
          log_level: str) -> None:
    """Run the Slack app: HTTP mode on a production server, or Socket Mode.

    HTTP mode answers Slack at POST /slack/events and health checks at
    GET /healthz. Needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP) or
    SLACK_APP_TOKEN (Socket Mode). The weekly schedule (prompts, reminders,
    digests) runs in-process, checked every minute, unless --no-scheduler.
    """
    import logging

    from bot.app import check_slack_settings, create_app

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    deps = deps_from(ctx)
    check_slack_settings(deps.settings, socket_mode=socket_mode)
    deps.playbook  # noqa: B018 - fail now on a bad playbook, not on first use
    with ready_db(deps):
        pass
    app = create_app(deps)
    server = None
    if not socket_mode:  # the port first: a second serve on a busy port fails before it schedules anything
        from bot.server import make_server

        try:
            server = make_server(app, deps, host=host, port=port, threads=threads)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                _fail(f"port {port} on {host} is already in use (another `coach serve`?): stop it, "
                      "or choose another port with --port")
            raise
    scheduler = None
    if not no_scheduler:
        from schedules.runner import start_scheduler

        scheduler = start_scheduler(deps, app.client)
    try:
        if server is None:
            _serve_socket_mode(app, deps.settings.slack_app_token)
            return
        click.echo(f"Pipeline Coach listening on http://{host}:{server.effective_port} "
                   "(POST /slack/events, GET /healthz)")
        server.run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


def _serve_socket_mode(app: Any, app_token: str) -> None:
    from slack_sdk.errors import SlackApiError

    from bot.slack.socket_mode import socket_mode_handler

    click.echo("Connecting to Slack over Socket Mode…")
    try:  # asked once first, so a wrong token is one line here, not the handler's logged traceback
        app.client.apps_connections_open(app_token=app_token)
    except SlackApiError as e:  # the app-level token is wrong or lacks its scope
        error = e.response.get("error") if isinstance(e.response.data, dict) else e.response.status_code
        _fail(f"Slack refused SLACK_APP_TOKEN ({error}): use an app-level token (xapp-…) with the "
              "connections:write scope, from Slack app settings → Basic Information → App-Level Tokens")
    socket_mode_handler(app, app_token).start()


# --- the weekly schedule -------------------------------------------------------


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--at {value!r} is not an ISO-8601 time; e.g. --at 2026-11-23T09:00+01:00 or --at 2026-11-23T08:00Z")
    if at.tzinfo is None:
        _fail(f"--at {value!r} has no timezone; add one, e.g. {value}Z or {value}+01:00")
    return at.astimezone(UTC)


@main.command()
@click.option("--at", "at", metavar="ISO-8601", help="Act as if it were this moment (with a timezone), "
              "to replay a week or catch up; default: now.")
@click.option("--log-level", default="WARNING", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@click.pass_context
@friendly
def tick(ctx: click.Context, at: str | None, log_level: str) -> None:
    """Run every scheduled step that is due now (or --at a moment) once, and exit.

    For cron-style deployments (e.g. every 5 minutes), for replaying a week and
    for demos. Each message is recorded in the send ledger, so running tick
    twice, or alongside `coach serve`, never sends anything twice.
    """
    import logging

    from bot.slack.client import verify_slack, web_client
    from schedules.runner import tick as run_tick

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    deps = deps_from(ctx)
    now = _instant(at) or deps.clock.now()
    if not deps.settings.slack_bot_token:
        _fail("tick sends to Slack, and SLACK_BOT_TOKEN is not set: set it (see the README's Slack app section)")
    with ready_db(deps):
        pass
    client = web_client(deps.settings)
    verify_slack(client)  # an unreachable Slack or a wrong token: one clear line, not a failed send per person
    report = run_tick(deps, client, now=now)
    click.echo(f"{now.isoformat()}: {report.summary()}")
    for key, error in report.failed:
        click.echo(f"  failed {key}: {error}", err=True)
    for step, error in report.step_errors:
        click.echo(f"  step {step} failed: {error}", err=True)
    if report.failed or report.step_errors:
        sys.exit(1)


@main.command()
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 366), help="How far back to look.")
@click.option("--all", "show_all", is_flag=True, help="List every send, not only those not yet sent.")
@click.option("--at", "at", metavar="ISO-8601", help="Count the days back from this moment (with a timezone), "
              "e.g. after `coach tick --at` replayed a past week; default: now.")
@click.pass_context
@friendly
def status(ctx: click.Context, days: int, show_all: bool, at: str | None) -> None:
    """The send ledger: what the schedule sent, what is in flight, what failed and why.

    Shows the sends of the last --days days before now (or --at a moment).
    """
    from collections import Counter

    from schedules.runner import ledger_rows, profile_issues

    deps = deps_from(ctx)
    with ready_db(deps):
        pass
    now = _instant(at) or deps.clock.now()
    rows = ledger_rows(deps, since=now - timedelta(days=days), until=now)
    counts = Counter(r.status for r in rows)
    late = sum(1 for r in rows if r.late)
    click.echo(f"last {days} days: {counts['sent']} sent ({late} late), {counts['sending']} in flight, "
               f"{counts['failed']} failed")
    for r in rows:
        if not show_all and r.status == "sent":
            continue
        when = (r.sent_at or r.updated_at).strftime("%Y-%m-%d %H:%M UTC")
        line = f"  {r.status:<7} {r.week} {r.step:<20} {r.recipient.email:<32} {when}"
        if r.late:
            line += " (late)"
        if r.status == "failed":
            line += f" · attempt {r.attempts}: {r.last_error}"
        elif r.status == "sending":
            line += f" · held by {r.claimed_by} until {r.lease_until.strftime('%H:%M UTC')}"
        click.echo(line)
    issues = profile_issues(deps)
    if issues:
        click.echo(f"people the schedule leaves out or cannot place ({len(issues)}):")
        for i in issues:
            click.echo(f"  {i.email:<32} {i.state}")


@main.command("schedule")
@click.option("--week", "week_text", metavar="DATE", help="A day of the week to preview (YYYY-MM-DD; its Monday "
              "starts it); default: the coming week.")
@click.option("--as", "email", metavar="EMAIL", help="Only the messages to this person.")
@click.pass_context
@friendly
def schedule(ctx: click.Context, week_text: str | None, email: str | None) -> None:
    """Preview every message a week will send: to whom, what kind, and when in their local time and
    in UTC, from the database and the settings. Sends nothing, writes nothing."""
    from datetime import date

    from bot.db import repo
    from bot.domain.cadence import monday_of
    from bot.services.golive import live_since
    from bot.services.schedule_preview import coming_week, week_plan

    deps = deps_from(ctx)
    if week_text is not None:
        try:
            week = monday_of(date.fromisoformat(week_text))
        except ValueError:
            _fail(f"--week {week_text!r} is not a date like 2026-12-07")
    else:
        week = coming_week(deps.clock.now())
    with ready_db(deps) as session:
        only = None
        if email is not None:
            only = repo.person_by_email(session, email)
            if only is None:
                _fail(f"{email} is not in the org; `coach org show` lists who is")
        live = live_since(session)
        plan = week_plan(session, deps.playbook, deps.settings.cadence, week,
                         digest_channel=deps.settings.digest_channel, only=only,
                         live_from=live.at if live else None)
        click.echo(f"The week of {week.isoformat()}: {len(plan)} scheduled message(s)"
                   + (f" to {email}" if email else "") + " (a preview: nothing is sent)")
        for p in plan:
            zone = p.person.timezone or "UTC"
            line = (f"  {p.local:%a %Y-%m-%d %H:%M} {zone:<20} ({p.at:%a %H:%M} UTC)  {p.kind:<22} "
                    f"{p.person.name} <{p.person.email}>")
            click.echo(line + (f"  ({p.note})" if p.note else ""))


@main.command("fake-slack")
@click.option("--port", default=3001, show_default=True, type=click.IntRange(0, 65535),
              help="Port for the fake Web API (0: any free port).")
@click.option("--once", is_flag=True, hidden=True, help="Start, print how to use it, and stop (for tests).")
@click.pass_context
@friendly
def fake_slack(ctx: click.Context, port: int, once: bool) -> None:
    """Run the bundled stand-in for Slack's Web API, with the org's people as its users, to try
    `coach tick` and `coach serve` end to end without a workspace. Prints every message posted.

    In another shell, point the bot at it: SLACK_API_URL=http://127.0.0.1:PORT/api/ and any
    SLACK_BOT_TOKEN (it accepts the one set here, or any when none is set).
    """
    import time

    from bot.db.models import Person
    from bot.fakeslack import FakeSlack

    deps = deps_from(ctx)
    token = deps.settings.slack_bot_token or None
    with ready_db(deps) as session:
        people = [(p.slack_user_id or f"U{p.id:07d}", p.email, p.name, p.timezone or "UTC")
                  for p in session.scalars(sa.select(Person).order_by(Person.id))]
    if not people:
        _fail("the org is empty: import it with `coach org import FILE.csv` first")
    fake = FakeSlack(expected_token=token, port=port)
    try:
        fake.start()
    except OSError as e:
        _fail(f"cannot listen on port {port}: {e.strerror}; choose another with --port")
    try:
        for uid, email, name, tz in people:
            fake.add_user(uid, email=email, name=email.split("@")[0], real_name=name, tz=tz)
        click.echo(f"Fake Slack Web API on {fake.base_url} with {len(people)} users (the org's people).")
        click.echo("In another shell:")
        click.echo(f"  export SLACK_API_URL={fake.base_url} SLACK_BOT_TOKEN={token or 'xoxb-fake'} "
                   "SLACK_SIGNING_SECRET=fake")
        click.echo("  coach tick --at 2026-12-07T09:05Z    # one tick: Monday's prompts, printed here")
        click.echo("  coach serve --port 3000              # or the app and its minute-by-minute schedule")
        if once:
            return
        click.echo("Ctrl-C stops it.")
        shown = 0
        names = {uid: name for uid, _, name, _ in people}
        while True:
            time.sleep(0.5)
            messages = fake.messages()
            for m in messages[shown:]:
                channel = str(m.params.get("channel", ""))
                who = names.get(channel.removeprefix("D"), channel)
                text = str(m.params.get("text", "")).splitlines()[0][:100] if m.params.get("text") else ""
                click.echo(f"→ {who}: {text}")
            shown = len(messages)
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        fake.stop()


# --- without Slack: demo and shell -----------------------------------------------


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the demo's database and HTML preview (default: a new temporary folder).")
@click.option("--seed", default=7, show_default=True, help="Chooses who answers, who updates, who stays silent.")
@click.option("--org", "org_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Your own org CSV (with --deals); default: the bundled example org.")
@click.option("--deals", "deals_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Your own deals CSV (with --org); a CRM export with --preset or --mapping, its dates kept.")
@_MAPPING
@_PRESET
@click.option("--playbook", "playbook_name", help="A playbook name (default, industrial) or YAML file.")
@click.option("--full", is_flag=True, help="Print every message whole, not its first lines.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="zh: a mixed-language team, most people's Slack in Chinese, a few reps' in English; "
                   "the transcript in Chinese.")
@friendly
def demo(out: Path | None, seed: int, org_file: Path | None, deals_file: Path | None, mapping_file: Path | None,
         preset: str | None, playbook_name: str | None, full: bool, lang: str) -> None:
    """Replay a whole week, Monday to Friday, without Slack: prompts, coaching at a gate,
    reminders, someone away, every tier's digests and a comment carried up.

    Runs the real app, scheduler and templates against an embedded stand-in for Slack,
    on a fresh SQLite database and a simulated clock. Prints a transcript and writes an
    HTML preview of every message and form.
    """
    import tempfile

    from bot.demo.week import run_demo

    if (org_file is None) != (deals_file is None):
        _fail("give both --org FILE and --deals FILE, or neither (for the bundled example)")
    mapping = _mapping(mapping_file, preset)
    if mapping is not None and deals_file is None:
        _fail("--preset/--mapping read your --deals FILE as a CRM export: give --org FILE and --deals FILE too")
    if playbook_name:
        playbooks.load_playbook(playbook_name)  # a bad playbook is reported before anything starts
    folder = out or Path(tempfile.mkdtemp(prefix="coach-demo-"))
    run_demo(out=folder, seed=seed, org=org_file, deals=deals_file, playbook=playbook_name, echo=click.echo,
             full=full, progress=sys.stderr.isatty(), lang=lang, deals_mapping=mapping)


@main.command()
@click.option("--as", "email", required=True, metavar="EMAIL", help="Who you are (someone in the org).")
@click.option("--at", "at", metavar="ISO-8601", help="The shell's clock to start with (default: now).")
@click.pass_context
@friendly
def shell(ctx: click.Context, email: str, at: str | None) -> None:
    """Be anyone in the org, in the terminal: type /deal and /pipeline commands, click
    buttons by number, fill in forms, and :tick the clock to run the schedule.

    Uses the configured database (DATABASE_URL) and an embedded stand-in for Slack;
    nothing is sent to a real Slack. Reads a script from standard input when it is
    not a terminal, e.g. `coach shell --as ada@example.com < session.txt`. People
    without a Slack id get a stand-in one, stored as Slack's would be: use a copy of
    a production database.
    """
    import logging

    from bot.demo.shell import run_shell
    from bot.demo.workspace import EmbeddedWorkspace

    logging.basicConfig(level=logging.ERROR)  # late sends after a :tick jump are expected here, not news
    deps = deps_from(ctx)
    start = _instant(at) or deps.clock.now()
    with ready_db(deps):  # an uninitialised database is reported as such, not created behind the person's back
        pass
    with EmbeddedWorkspace(deps.settings.database_url, at=start, data_dir=deps.settings.data_dir,
                           playbook=deps.settings.playbook) as ws:
        ws.sync_people()
        if not ws.users:
            _fail("the org is empty: import it with `coach org import FILE.csv` (then `coach deals import FILE.csv`)")
        if email.lower() not in ws.users:
            _fail(f"{email} is not in the org; `coach org show` lists who is (import one with `coach org import`)")
        sys.exit(run_shell(ws, email))


from bot import cli_numbers  # noqa: E402 - coach plan / targets / report, registered on `main`

cli_numbers.register(main)

if __name__ == "__main__":  # pragma: no cover
    main()
