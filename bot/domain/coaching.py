"""Turning gate results into words a rep can act on, from the playbook's own text."""

from __future__ import annotations

from bot.domain.gates import Kind, Missing
from bot.domain.playbook import MARKER_PREFIX, Playbook


def label(m: Missing, playbook: Playbook, lang: str = "en") -> str:
    """A short name for the missing item, e.g. "BANT: Budget" or "role: Coach"."""
    if m.kind is Kind.CHARACTERISTIC:
        text = playbook.characteristic(m.key)[1].text.in_(lang)
        return f"{'标志' if lang == 'zh' else 'marker'}: {text}" if m.key.startswith(MARKER_PREFIX) else text
    if m.kind is Kind.BANT:
        return f"BANT: {playbook.bant_question(m.key).name.in_(lang)}"
    if m.kind is Kind.ROLE:
        return f"{'角色' if lang == 'zh' else 'role'}: {playbook.role(m.key).name.in_(lang)}"
    return f"{'评估' if lang == 'zh' else 'evaluation'}: {playbook.evaluation(m.key).name.in_(lang)}"


def question(m: Missing, playbook: Playbook, lang: str = "en") -> str:
    """What to ask the rep so the item can be confirmed."""
    if m.kind is Kind.CHARACTERISTIC:
        text = playbook.characteristic(m.key)[1].text.in_(lang)
        return f"{text}？" if lang == "zh" else f"Is this true now: {text}?"
    if m.kind is Kind.BANT:
        return playbook.bant_question(m.key).question.in_(lang)
    if m.kind is Kind.ROLE:
        role = playbook.role(m.key)
        return f"{role.name.in_(lang)}: {role.description.in_(lang)}"
    ev = playbook.evaluation(m.key)
    return f"{ev.name.in_(lang)} ({ev.pass_mark}/{len(ev.items)})"
