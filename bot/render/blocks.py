"""Small Block Kit helpers over slack_sdk's models (which enforce Slack's limits)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot import i18n
from bot.i18n import _
from bot.render.text import clip, environment

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000


def macro(template: str, name: str, /, **context: Any) -> str:
    """Render one macro of ``templates/<template>`` to trimmed text."""
    module = environment().get_template(template).module
    return i18n.tidy(str(getattr(module, name)(**context)).strip())


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(text, HEADER_TEXT), emoji=True))


def section(text: str, accessory: Any = None, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_TEXT)), accessory=accessory, block_id=block_id)


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, SECTION_TEXT))])


def divider() -> DividerBlock:
    return DividerBlock()


def button(text: str, action_id: str, value: dict[str, Any] | str, style: str | None = None) -> ButtonElement:
    raw = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return ButtonElement(text=clip(text, BUTTON_TEXT), action_id=action_id, value=raw[:BUTTON_VALUE], style=style)


def actions(*buttons: ButtonElement, block_id: str | None = None) -> ActionsBlock:
    return ActionsBlock(elements=list(buttons), block_id=block_id)


def page_nav(action_prefix: str, value: dict[str, Any], page: int, pages: int, *, next_label: str | None = None
             ) -> ActionsBlock:
    """Previous / next buttons; their action ids are ``<prefix>_prev`` and ``<prefix>_next``."""
    nav = []
    if page > 1:
        nav.append(button(_("Previous"), f"{action_prefix}_prev", {**value, "page": page - 1}))
    if page < pages:
        nav.append(button(next_label or _("Next page"), f"{action_prefix}_next", {**value, "page": page + 1}))
    return actions(*nav)


def pack(lines: Iterable[str], limit: int = SECTION_TEXT - 100) -> list[SectionBlock]:
    """Lines joined into as few sections as fit Slack's text limit."""
    out: list[SectionBlock] = []
    buf = ""
    for line in lines:
        line = clip(line, limit)
        if buf and len(buf) + 1 + len(line) > limit:
            out.append(section(buf))
            buf = line
        else:
            buf = f"{buf}\n{line}" if buf else line
    if buf:
        out.append(section(buf))
    return out


def as_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    """Serialise, validating every block against Slack's limits."""
    return [b.to_dict() for b in blocks]


def fallback_text(blocks: Sequence[Block], default: str = "Pipeline Coach") -> str:
    """Notification text for a message: its first text, clipped."""
    for b in blocks:
        text = getattr(b, "text", None)
        if text is not None and getattr(text, "text", None):
            return clip(str(text.text), 300)
    return default
