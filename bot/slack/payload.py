"""Reading what Slack sends: who acted, a button's value, a form's metadata."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.services.errors import UserError


def user_id_of(body: dict[str, Any]) -> str:
    return body.get("user_id") or (body.get("user") or {}).get("id") or ""


def button_value(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON object a clicked button carries (empty if it is not one)."""
    try:
        value = json.loads(body["actions"][0].get("value") or "{}")
    except (KeyError, IndexError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def week_value(raw: object) -> date:
    """The week a button or form was made for; a mangled one means the form is stale."""
    try:
        return date.fromisoformat(str(raw))
    except ValueError as e:
        raise UserError("stale_view") from e


def metadata_of(body: dict[str, Any]) -> dict[str, Any]:
    raw = (body.get("view") or {}).get("private_metadata") or "{}"
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def channel_of(body: dict[str, Any]) -> str:
    """The channel a button was clicked in (empty for a form)."""
    return (body.get("channel") or {}).get("id") or ""
