"""The App Home tab: your deals by stage with what's missing; a team summary for managers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import i18n
from bot.domain.deal import DealFacts
from bot.domain.playbook import Playbook
from bot.domain.score import Score
from bot.i18n import _
from bot.render.blocks import MAX_VIEW_BLOCKS, actions, button, context, divider, header, macro, pack, section
from bot.render.deal_blocks import missing_labels
from bot.render.ids import Action

HOME_DEALS = 60  # listed on Home; the rest are counted, and /deal list pages through them
TOP_SCORED = 3  # the most promising deals, first on Home


def _h(name: str, /, **ctx: Any) -> str:
    return macro("home.j2", name, **ctx)


def home_view(name: str, deals: Sequence[DealFacts], playbook: Playbook, *, team: Sequence[Block] = (),
              lang: str | None = None, scores: Mapping[str, Score] | None = None) -> dict[str, Any]:
    """Your deals by stage (each with its lead score, the best few first when ``scores`` are given)."""
    scores = scores or {}
    lang = lang or i18n.current()  # the language in force unless told
    open_deals = [d for d in deals if not playbook.is_closed(d.stage)]
    order = {k: i for i, k in enumerate(playbook.keys)}
    open_deals.sort(key=lambda d: (order[d.stage], d.ref))
    blocks: list[Block] = [header(_h("title", name=name)),
                           actions(button(_("New deal"), Action.NEW_DEAL, "home", style="primary"))]
    best = sorted((d for d in open_deals if d.ref in scores), key=lambda d: (-scores[d.ref].value, d.ref))[:TOP_SCORED]
    if best:
        blocks.append(section(_h("top_scored", deals=[(d, scores[d.ref]) for d in best], pb=playbook, lang=lang)))
    blocks.append(section(_h("my_deals", count=len(open_deals))))
    shown = open_deals[:HOME_DEALS]
    for key in playbook.keys:
        in_stage = [d for d in shown if d.stage == key]
        if not in_stage:
            continue
        lines = [f"*{playbook.stage_name(key, lang)}*"]
        lines += [macro("deal.j2", "list_line", d=d, pb=playbook, missing=missing_labels(d, playbook, lang), lang=lang,
                        score=scores.get(d.ref)) for d in in_stage]
        blocks.extend(pack(lines))
    if len(open_deals) > HOME_DEALS:
        blocks.append(context(_h("more_deals", n=len(open_deals) - HOME_DEALS)))
    if team:
        blocks += [divider(), section(_h("team_header")), *team]
    blocks += [divider(), context(_h("tips"))]
    return View(type="home", blocks=blocks[:MAX_VIEW_BLOCKS]).to_dict()


def not_in_org_view() -> dict[str, Any]:
    return View(type="home", blocks=[section(_h("not_in_org"))]).to_dict()
