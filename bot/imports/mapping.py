"""A CRM export's mapping: which of its columns holds each of our fields, which of our stages each
of its stage names is, how its dates and amounts are written and how its owners are named.

A mapping is a TOML file (``coach deals import FILE --mapping MAP.toml``); the presets for the
common exports ship with the package (``--preset salesforce``, ``coach deals mapping show NAME``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.playbook import LOST, Playbook

PRESETS = ("salesforce", "hubspot", "pipedrive")
# Our fields; the first four every mapped file must have.
REQUIRED = ("crm_id", "name", "owner", "stage")
OPTIONAL = ("account", "amount", "currency", "close_date", "created", "next_step", "status", "closed_at",
            "won_at", "lost_at", "lost_reason", "lost_stage")
FIELDS = (*REQUIRED, *OPTIONAL)
STATUSES = ("open", "won", "lost")
HISTORY_DEFAULT = {"crm_id": "id", "from": "from", "to": "to", "at": "at", "who": "who"}


class MappingError(ValueError):
    """The mapping file is unusable; the message says what to fix."""


@dataclass(frozen=True)
class Mapping:
    name: str
    columns: dict[str, str]  # our field -> the export's column
    stages: dict[str, str]  # the export's stage name (lower case) -> our stage key
    stage_names: dict[str, str]  # the export's stage name (lower case) -> as the export spells it
    entered: dict[str, str] = field(default_factory=dict)  # our stage key -> column: the date it was entered
    # A separate stage-history file (one row per change): our field (crm_id, from, to, at, who) -> its column.
    history: dict[str, str] = field(default_factory=lambda: dict(HISTORY_DEFAULT))
    status: dict[str, str] = field(default_factory=dict)  # the export's status value (lower case) -> open/won/lost
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    timezone: str = "UTC"
    owners: str = "email"  # or "name"
    currency: str = "USD"  # when no currency column is mapped, or its cell is empty
    decimal: str = "."  # "," for 1.234,56

    def column(self, key: str) -> str | None:
        return self.columns.get(key)

    def stage_key(self, export_name: str) -> str | None:
        return self.stages.get(export_name.strip().lower())

    def export_stage(self, key: str) -> str | None:
        """The export's first name for our stage ``key`` (for writing back)."""
        for low, ours in self.stages.items():
            if ours == key:
                return self.stage_names[low]
        return None

    def parse_when(self, text: str) -> datetime | None:
        """``text`` in one of the date formats (or ISO 8601), as an aware UTC datetime; None if it is not."""
        text = text.strip()
        zone = ZoneInfo(self.timezone)
        for fmt in self.date_formats:
            try:
                parsed = datetime.strptime(text, fmt)
            except ValueError:
                continue
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)

    def parse_day(self, text: str) -> date | None:
        when = self.parse_when(text)
        return None if when is None else when.astimezone(ZoneInfo(self.timezone)).date()

    def format_day(self, day: date) -> str:
        return day.strftime(self.date_formats[0])

    def format_when(self, when: datetime) -> str:
        return when.astimezone(ZoneInfo(self.timezone)).strftime(self.date_formats[0])

    def day_start(self, day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)

    def check(self, playbook: Playbook) -> None:
        """Every stage the mapping names exists in ``playbook``, and it names a won and a lost one."""
        known = {*playbook.keys, LOST}
        bad = sorted({k for k in (*self.stages.values(), *self.entered) if k not in known})
        if bad:
            raise MappingError(f"mapping {self.name}: stage {', '.join(bad)} is not in the playbook "
                               f"(its stages: {', '.join(sorted(known, key=_order(playbook)))}); "
                               "change [stages] / [entered] to use these keys")
        if self.column("status") is None:
            for needed in (playbook.won.key, LOST):
                if needed not in self.stages.values():
                    raise MappingError(f"mapping {self.name}: no stage name maps to {needed} under [stages]; "
                                       f"add the export's name for it, e.g. \"Closed {needed}\" = \"{needed}\"")


def _order(playbook: Playbook) -> Callable[[str], int]:
    return lambda k: playbook.keys.index(k) if k in playbook.keys else len(playbook.keys)


def preset_text(name: str) -> str:
    if name not in PRESETS:
        raise MappingError(f"no preset {name!r}; the presets are {', '.join(PRESETS)}")
    return resources.files("bot.imports").joinpath("presets", f"{name}.toml").read_text(encoding="utf-8")


def load_preset(name: str) -> Mapping:
    return parse_mapping(preset_text(name), f"preset {name}")


def load_mapping(path: Path) -> Mapping:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(f"{path}: mapping file not found (check the path, or start from "
                           "`coach deals mapping show salesforce > {path}`)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise MappingError(f"{path}: cannot be read ({e})") from None
    return parse_mapping(text, str(path))


def parse_mapping(text: str, source: str) -> Mapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise MappingError(f"{source}: not valid TOML ({e})") from None
    columns = _table(data, "columns", source)
    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        raise MappingError(f"{source}: [columns] names {', '.join(unknown)}, which are not our fields "
                           f"(they are: {', '.join(FIELDS)})")
    missing = [k for k in REQUIRED if not columns.get(k)]
    if missing:
        raise MappingError(f"{source}: [columns] must name the export's column for {', '.join(missing)}")
    stages = _table(data, "stages", source)
    if not stages:
        raise MappingError(f"{source}: [stages] is empty; map each of the export's stage names to one of ours")
    status = {k.strip().lower(): v.strip().lower() for k, v in _table(data, "status", source).items()}
    bad_status = sorted({v for v in status.values() if v not in STATUSES})
    if bad_status:
        raise MappingError(f"{source}: [status] values must be open, won or lost, not {', '.join(bad_status)}")
    if columns.get("status") and not status:
        raise MappingError(f"{source}: a status column is mapped but [status] is empty; "
                           "map each of its values to open, won or lost")
    formats = data.get("date_format", "%Y-%m-%d")
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    if not formats or not all(isinstance(f, str) and "%" in f for f in formats):
        raise MappingError(f"{source}: date_format must be a strptime format like \"%m/%d/%Y\" (or a list of them)")
    owners = str(data.get("owners", "email")).lower()
    if owners not in ("email", "name"):
        raise MappingError(f"{source}: owners must be \"email\" or \"name\", not {owners!r}")
    zone = str(data.get("timezone", "UTC"))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{source}: timezone {zone!r} is not an IANA name like Europe/Berlin") from None
    decimal = str(data.get("decimal", "."))
    if decimal not in (".", ","):
        raise MappingError(f"{source}: decimal must be \".\" or \",\"")
    currency = str(data.get("currency", "USD")).upper()
    return Mapping(
        name=str(data.get("name", source)),
        columns={k: v.strip() for k, v in columns.items() if v.strip()},
        stages={k.strip().lower(): v.strip().lower() for k, v in stages.items()},
        stage_names={k.strip().lower(): k.strip() for k in stages},
        entered={k.strip().lower(): v.strip() for k, v in _table(data, "entered", source).items()},
        history=_history(_table(data, "history", source), source),
        status=status, date_formats=formats, timezone=zone, owners=owners, currency=currency, decimal=decimal,
    )


def _history(table: dict[str, str], source: str) -> dict[str, str]:
    unknown = sorted(set(table) - set(HISTORY_DEFAULT))
    if unknown:
        raise MappingError(f"{source}: [history] names {', '.join(unknown)}; its fields are "
                           f"{', '.join(HISTORY_DEFAULT)}")
    return {**HISTORY_DEFAULT, **{k: v.strip() for k, v in table.items() if v.strip()}}


def _table(data: dict[str, object], key: str, source: str) -> dict[str, str]:
    value = data.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise MappingError(f"{source}: [{key}] must be a table of \"text\" = \"text\" lines")
    return {str(k): str(v) for k, v in value.items()}
