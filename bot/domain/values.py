"""Typed values from what people type, in a form or a CSV file: amounts, dates, currencies, timezones.

Each parser returns None for text it cannot read, so the caller can say which field is wrong.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MAX_AMOUNT = Decimal("1e15")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


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
    """Three capital letters, like ``EUR``."""
    return bool(_CURRENCY.match(code))


def valid_timezone(name: str) -> bool:
    """An IANA timezone name this machine knows, like ``Europe/Berlin``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return name in available_timezones() or name == "UTC"
