"""Turning gate results into words a rep can act on, from the playbook's own text."""

from __future__ import annotations

from bot.domain.gates import Kind, Missing
from bot.domain.playbook import MARKER_PREFIX, Playbook


def _tagged(tag_en: str, tag_zh: str, text: str, lang: str) -> str:
    """``role: Coach`` / ``角色：教练（内线）``: Chinese takes a full-width colon, with no space."""
    return f"{tag_zh}：{text}" if lang == "zh" else f"{tag_en}: {text}"


def label(m: Missing, playbook: Playbook, lang: str = "en") -> str:
    """A short name for the missing item, e.g. "BANT: Budget" or "role: Coach"."""
    if m.kind is Kind.CHARACTERISTIC:
        text = playbook.characteristic(m.key)[1].text.in_(lang)
        return _tagged("marker", "标志", text, lang) if m.key.startswith(MARKER_PREFIX) else text
    if m.kind is Kind.BANT:
        return _tagged("BANT", "BANT", playbook.bant_question(m.key).name.in_(lang), lang)
    if m.kind is Kind.ROLE:
        return _tagged("role", "角色", playbook.role(m.key).name.in_(lang), lang)
    return _tagged("evaluation", "评估", playbook.evaluation(m.key).name.in_(lang), lang)


def question(m: Missing, playbook: Playbook, lang: str = "en") -> str:
    """What to ask the rep so the item can be confirmed."""
    if m.kind is Kind.CHARACTERISTIC:
        text = playbook.characteristic(m.key)[1].text.in_(lang)
        return f"{text}？" if lang == "zh" else f"Is this true now: {text}?"
    if m.kind is Kind.BANT:
        return playbook.bant_question(m.key).question.in_(lang)
    if m.kind is Kind.ROLE:
        role = playbook.role(m.key)
        sep = "：" if lang == "zh" else ": "
        return f"{role.name.in_(lang)}{sep}{role.description.in_(lang)}"
    ev = playbook.evaluation(m.key)
    if lang == "zh":
        return f"{ev.name.in_(lang)}（{len(ev.items)} 项中需 {ev.pass_mark} 项）"
    return f"{ev.name.in_(lang)} ({ev.pass_mark}/{len(ev.items)})"
