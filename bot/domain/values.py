"""Typed values from what people type, in a form or a CSV file: amounts, dates, currencies, timezones.

Each parser returns None for text it cannot read, so the caller can say which field is wrong.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.numbers import list_currencies

MAX_AMOUNT = Decimal("1e15")
MAX_NAME = 200  # a deal's or an account's name: the columns' width
MAX_TEXT = 3000  # free text from a form: Slack's own limit for a text input
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ISO_4217 = frozenset(list_currencies())  # CLDR's list, which Babel ships: current and historic codes


def parse_amount(text: str) -> Decimal | None:
    """A non-negative amount with at most two decimals; thousands separators allowed."""
    try:
        value = Decimal(text.replace(",", "").replace("_", "").strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value >= MAX_AMOUNT or value != value.quantize(Decimal("0.01")):
        return None
    return value.quantize(Decimal("0.01"))


def parse_date(text: str) -> date | None:
    """An ISO date (``YYYY-MM-DD``)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def is_currency(code: str) -> bool:
    """An ISO 4217 code in capitals, like ``EUR`` (``ZZZ`` has the shape but is no currency)."""
    return bool(_CURRENCY.match(code)) and code in _ISO_4217


def valid_timezone(name: str) -> bool:
    """An IANA timezone name this machine knows, like ``Europe/Berlin``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return name in available_timezones() or name == "UTC"
