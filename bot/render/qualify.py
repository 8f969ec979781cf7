"""The qualify form: every buying role and every evaluation item, answerable at any time."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from bot import i18n
from bot.domain.deal import DealFacts
from bot.domain.playbook import Playbook
from bot.render.blocks import context, macro
from bot.render.ids import Block as B
from bot.render.ids import View as V
from bot.render.modals import modal_view, select_input, text_input

YES, NO, UNKNOWN = "yes", "no", "unknown"


def _q(name: str, /, **ctx: Any) -> str:
    return macro("qualify.j2", name, **ctx)


def item_block_id(evaluation: str, item: str) -> str:
    return f"{B.ITEM_PREFIX}{evaluation}__{item}"


def qualify_modal(d: DealFacts, playbook: Playbook, *, metadata: dict[str, Any],
                  lang: str | None = None) -> dict[str, Any]:
    """Every role (names, one a line) and every evaluation item (yes / no / unknown), prefilled."""
    lang = lang or i18n.current()  # the language in force unless told
    answers = [(YES, _q("yes")), (NO, _q("no")), (UNKNOWN, _q("unknown"))]
    blocks: list[Block] = [context(_q("intro", d=d))]
    for role in playbook.roles:
        blocks.append(text_input(f"{B.ROLE_PREFIX}{role.key}", role.name.in_(lang), optional=True,
                                 multiline=role.multiple, max_length=500,
                                 initial="\n".join(d.roles.get(role.key, ())) or None,
                                 hint=role.description.in_(lang)))
    for ev in playbook.evaluations:
        given = d.evaluations.get(ev.key, {})
        for n, item in enumerate(ev.items, start=1):
            now = UNKNOWN if item.key not in given else (YES if given[item.key] else NO)
            label = _q("item_label", evaluation=ev.name.in_(lang), n=n, of=len(ev.items), item=item.text.in_(lang))
            blocks.append(select_input(item_block_id(ev.key, item.key), label, answers, initial=now,
                                      hint=item.question.in_(lang) if item.question else None))
    return modal_view(V.QUALIFY, _q("title", ref=d.ref), blocks, metadata, _q("submit"))
