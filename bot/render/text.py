"""The Jinja2 environment for message wording, and Slack's escaping rules.

Templates live in the top-level ``templates`` package so wording can change
(or be translated) without touching code. Every value printed by a template
is Slack-escaped unless wrapped in ``Markup``-like ``Raw``: user text can
never inject mentions or links.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from bot.domain import money


def escape(text: object) -> str:
    """Slack's three control characters as entities (their documented rule)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Raw(str):
    """Text already in Slack markup (a mention, a link) that must not be escaped."""

    __slots__ = ()


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    return value if isinstance(value, Raw) else escape(value)


def mention(slack_user_id: str | None, fallback: str) -> Raw:
    return Raw(f"<@{slack_user_id}>") if slack_user_id else Raw(escape(fallback))


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("templates", ""),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Slack mrkdwn, not HTML: escaping is done by finalize
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # the templates ship with the code: no stat() of each one on every render
    )
    env.filters["money"] = money.fmt
    env.filters["amount"] = money.fmt_amount
    env.filters["raw"] = lambda v: Raw(v)
    return env


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` to text, trimmed."""
    return environment().get_template(template).render(**context).strip()


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to Slack's ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
