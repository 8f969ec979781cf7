"""Settings from the environment, with an optional TOML config file.

Environment variables win over the file so a deployment can override one
value without editing it. Everything has a default that works on a fresh
machine: an SQLite file in the user's data directory and the default playbook.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import platformdirs
import sqlalchemy as sa

from bot.domain.cadence import Cadence, WeeklyTime
from bot.domain.values import is_currency

APP_NAME = "pipeline-coach"

# Setting name -> environment variable. The config file uses the lower-case names.
ENV = {
    "database_url": "DATABASE_URL",
    "playbook": "COACH_PLAYBOOK",
    "admins": "COACH_ADMINS",
    "data_dir": "COACH_DATA_DIR",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_api_url": "SLACK_API_URL",
    "checkin": "COACH_CHECKIN",
    "reminders": "COACH_REMINDERS",
    "digests": "COACH_DIGESTS",
    "grace_hours": "COACH_GRACE_HOURS",
    "bant_stale_weeks": "COACH_BANT_STALE_WEEKS",
    "quiet_weeks": "COACH_QUIET_WEEKS",
    "meeting": "COACH_MEETING",
    "signoff_tier": "COACH_SIGNOFF_TIER",
    "forecast_margin": "COACH_FORECAST_MARGIN",
    "digest_channel": "COACH_DIGEST_CHANNEL",
    "reporting_currency": "COACH_REPORTING_CURRENCY",
    "send_rate": "COACH_SEND_RATE",
    "language": "COACH_LANGUAGE",
}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    playbook: str = "default"
    admins: frozenset[str] = field(default_factory=frozenset)
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = "https://slack.com/api/"
    cadence: Cadence = field(default_factory=Cadence)
    digest_channel: str = ""  # a channel id that also gets the top tier's digest
    reporting_currency: str = "USD"  # digests total in it (a manager may choose their own)
    send_rate: float = 40.0  # scheduled messages per second, shared by every instance on the database
    language: str = "en"  # the workspace default, for whoever has neither a choice nor a Slack locale

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def is_admin(self, email: str) -> bool:
        return email.lower() in self.admins


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _read_file(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError as e:
        raise ConfigError(f"config file {path} does not exist (set COACH_CONFIG to an existing TOML file)") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from e
    unknown = sorted(set(raw) - set(ENV))
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(ENV)}")
    return raw


def load_settings(environ: Mapping[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Build settings from ``environ`` (default ``os.environ``) and an optional file.

    The file is ``config_file`` or, if unset, ``$COACH_CONFIG``.
    """
    env = os.environ if environ is None else environ
    path = config_file or (Path(env["COACH_CONFIG"]) if env.get("COACH_CONFIG") else None)
    values: dict[str, object] = dict(_read_file(path)) if path else {}
    for name, var in ENV.items():
        if env.get(var):
            values[name] = env[var]

    data_dir = Path(str(values.get("data_dir") or default_data_dir())).expanduser()
    database_url = str(values.get("database_url") or f"sqlite:///{data_dir / 'coach.db'}")
    database_url = normal_database_url(database_url)

    admins_raw = values.get("admins") or ""
    admins = admins_raw if isinstance(admins_raw, list) else str(admins_raw).split(",")
    api_url = str(values.get("slack_api_url") or "https://slack.com/api/")
    if not api_url.endswith("/"):
        api_url += "/"
    try:
        send_rate = float(str(values.get("send_rate") or 40))
        if not 0 < send_rate <= 1000:
            raise ValueError
    except ValueError:
        raise ConfigError(f"COACH_SEND_RATE {values.get('send_rate')!r} is not a number of messages per second "
                          "between 0 and 1000 (e.g. 40)") from None
    reporting = str(values.get("reporting_currency") or "USD").strip().upper()
    if not is_currency(reporting):
        raise ConfigError(f"COACH_REPORTING_CURRENCY '{reporting}' is not a currency code (ISO 4217, e.g. EUR)")
    return Settings(
        reporting_currency=reporting,
        send_rate=send_rate,
        cadence=_cadence(values),
        data_dir=data_dir,
        database_url=database_url,
        playbook=str(values.get("playbook") or "default"),
        admins=frozenset(str(a).strip().lower() for a in admins if str(a).strip()),
        slack_bot_token=str(values.get("slack_bot_token") or ""),
        slack_signing_secret=str(values.get("slack_signing_secret") or ""),
        slack_app_token=str(values.get("slack_app_token") or ""),
        slack_api_url=api_url,
        digest_channel=str(values.get("digest_channel") or ""),
        language=_language(values.get("language")),
    )


def _language(value: object) -> str:
    from bot.i18n import LANGUAGES, normalize

    if not value:
        return "en"
    code = normalize(str(value))
    if code is None:
        raise ConfigError(f"COACH_LANGUAGE {value!r} is not a language the bot speaks; "
                          f"use one of {', '.join(LANGUAGES)}")
    return code


SUPPORTED_DATABASES = ("sqlite:///PATH (e.g. sqlite:////var/lib/coach/coach.db; four slashes for an absolute path)"
                       " or postgresql://USER:PASSWORD@HOST:PORT/DATABASE")


def normal_database_url(url: str) -> str:
    """``url`` in the form the engine takes (postgres:// and postgresql:// go through psycopg 3),
    or ConfigError when it is not one of the two supported forms."""
    if url.startswith("postgres://"):  # Heroku-style URLs
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    _check_database_url(url)
    return url


def _check_database_url(url: str) -> None:
    """Refuse a DATABASE_URL that is not one of the two supported forms, before anything connects."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(f"DATABASE_URL {url!r} is not a database URL; use {SUPPORTED_DATABASES}") from None
    try:
        backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    except sa.exc.NoSuchModuleError:  # nosuchdb://: the driver is looked up from the backend's dialect
        backend, driver = parsed.get_backend_name(), ""
    supported = (backend == "sqlite" and driver == "pysqlite") or (backend == "postgresql" and driver == "psycopg")
    if not supported:
        shown = parsed.render_as_string(hide_password=True)
        raise ConfigError(f"DATABASE_URL {shown} is not supported (Pipeline Coach runs on SQLite and PostgreSQL "
                          f"with psycopg 3); use {SUPPORTED_DATABASES}")


def _cadence(values: dict[str, object]) -> Cadence:
    """The weekly rhythm: ``mon 09:00`` style times, tier digests as ``1=tue 09:00,2=wed 09:00``."""
    default = Cadence()
    try:
        checkin = WeeklyTime.parse(str(values["checkin"])) if values.get("checkin") else default.checkin
        meeting = default.meeting
        if values.get("meeting"):
            off = str(values["meeting"]).strip().lower() in ("none", "off")
            meeting = None if off else WeeklyTime.parse(str(values["meeting"]))
        reminders = default.reminders
        if "reminders" in values:
            raw = values["reminders"]
            off = str(raw).strip().lower() in ("none", "off")
            items = raw if isinstance(raw, list) else ([] if off else str(raw).split(","))
            reminders = tuple(WeeklyTime.parse(str(r)) for r in items if str(r).strip())
        digests = dict(default.digests)
        if values.get("digests"):
            raw = values["digests"]
            pairs = raw.items() if isinstance(raw, dict) else (p.split("=", 1) for p in str(raw).split(","))
            digests = {int(k): WeeklyTime.parse(str(v)) for k, v in pairs}
            if not digests or min(digests) < 1:
                raise ValueError("tiers start at 1 (first-line managers)")
        grace = timedelta(hours=float(str(values.get("grace_hours") or 12)))
        stale = int(str(values.get("bant_stale_weeks") or default.bant_stale_weeks))
        quiet = int(str(values.get("quiet_weeks") or default.quiet_weeks))
        if quiet < 1:
            raise ValueError("quiet_weeks must be at least 1")
        signoff = int(str(values.get("signoff_tier") or default.signoff_tier))
        if signoff < 1:
            raise ValueError("signoff_tier must be at least 1 (first-line managers)")
        margin = int(str(values.get("forecast_margin") or default.forecast_margin).rstrip("%"))
        if margin < 0:
            raise ValueError("forecast_margin is a percentage, 0 or more")
    except ValueError as e:
        raise ConfigError(
            f"cadence settings: {e}. Examples: COACH_CHECKIN='mon 09:00', COACH_REMINDERS='mon 15:00,tue 08:00', "
            "COACH_MEETING='mon 16:00' (or 'off'), "
            "COACH_DIGESTS='1=tue 09:00,2=wed 09:00,3=thu 09:00,4=fri 09:00', COACH_GRACE_HOURS=12"
        ) from e
    return Cadence(checkin=checkin, meeting=meeting, reminders=reminders, digests=digests, grace=grace,
                   bant_stale_weeks=stale, quiet_weeks=quiet, signoff_tier=signoff, forecast_margin=margin)
