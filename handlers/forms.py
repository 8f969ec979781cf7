"""Reading submitted modals into typed values, with per-field errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from bot.domain.playbook import Playbook
from bot.domain.values import MAX_NAME, MAX_TEXT, is_currency, parse_amount, parse_date
from bot.render.blocks import macro
from bot.render.ids import FIELD, Block
from bot.services.answers import Answers, DealEdits
from bot.services.qualification import Qualification


class Form:
    """A view's submitted state, and the errors found reading it (block_id -> message)."""

    # Each read checks the type of what it finds: a forged or mangled submission reads as empty or
    # as a field error, never as an exception.
    def __init__(self, view: dict[str, Any]) -> None:
        state = view.get("state") if isinstance(view, dict) else None
        values = state.get("values") if isinstance(state, dict) else None
        self.values: dict[str, dict[str, Any]] = values if isinstance(values, dict) else {}
        self.errors: dict[str, str] = {}

    def _field(self, block_id: str) -> dict[str, Any]:
        block = self.values.get(block_id)
        field = block.get(FIELD) if isinstance(block, dict) else None
        return field if isinstance(field, dict) else {}

    def has(self, block_id: str) -> bool:
        return block_id in self.values

    def text(self, block_id: str) -> str:
        raw = self._field(block_id).get("value")
        return raw.strip() if isinstance(raw, str) else ""

    def selected(self, block_id: str) -> str | None:
        opt = self._field(block_id).get("selected_option")
        value = opt.get("value") if isinstance(opt, dict) else None
        return value if isinstance(value, str) else None

    def date(self, block_id: str) -> date | None:
        raw = self._field(block_id).get("selected_date")
        if not raw:
            return None
        value = parse_date(raw) if isinstance(raw, str) else None
        if value is None:
            self.error(block_id, "bad_date", value=str(raw)[:40])
        return value

    def checked(self, block_id: str) -> set[str]:
        options = self._field(block_id).get("selected_options")
        if not isinstance(options, list):
            return set()
        return {o["value"] for o in options if isinstance(o, dict) and isinstance(o.get("value"), str)}

    def blocks_starting(self, prefix: str) -> list[str]:
        return [b for b in self.values if b.startswith(prefix)]

    def error(self, block_id: str, name: str, /, **ctx: Any) -> None:
        self.errors.setdefault(block_id, macro("errors.j2", name, **ctx))

    def count(self, block_id: str, most: int = 100_000) -> int | None:
        """A whole number from 0 to ``most`` (None when the field is empty)."""
        raw = self.text(block_id).replace(",", "")
        if not raw:
            return None
        if not raw.isdigit() or int(raw) > most:
            self.error(block_id, "not_a_count", value=raw, most=most)
            return None
        return int(raw)

    def required_text(self, block_id: str, most: int = MAX_TEXT) -> str:
        value = self.text(block_id)
        if not value:
            self.error(block_id, "required")
        return self.at_most(block_id, value, most)

    def at_most(self, block_id: str, value: str, most: int = MAX_TEXT) -> str:
        if len(value) > most:
            self.error(block_id, "too_long", most=most, length=len(value))
        return value

    def amount(self, block_id: str) -> Decimal | None:
        raw = self.required_text(block_id)
        if not raw:
            return None
        value = parse_amount(raw)
        if value is None:
            self.error(block_id, "bad_amount", value=raw)
        return value

    def currency(self, block_id: str) -> str | None:
        value = (self.selected(block_id) or "").upper()
        if not is_currency(value):
            self.error(block_id, "bad_currency", value=value)
            return None
        return value


def read_deal_fields(form: Form, *, today: date, is_open: bool) -> DealEdits:
    """Fields shared by the new and update forms; errors land on ``form``."""
    # Each form shows a subset of the fields: read (and require) only those it shows.
    edits = DealEdits(
        name=form.required_text(Block.NAME, MAX_NAME) if form.has(Block.NAME) else None,
        account=form.required_text(Block.ACCOUNT, MAX_NAME) if form.has(Block.ACCOUNT) else None,
        amount=form.amount(Block.AMOUNT) if form.has(Block.AMOUNT) else None,
        currency=form.currency(Block.CURRENCY) if form.has(Block.CURRENCY) else None,
        close_date=form.date(Block.CLOSE_DATE),
        next_step=form.at_most(Block.NEXT_STEP, form.text(Block.NEXT_STEP)) if form.has(Block.NEXT_STEP) else None,
    )
    if is_open and edits.close_date is not None and edits.close_date < today:
        form.error(Block.CLOSE_DATE, "close_in_past")
    if form.has(Block.FORECAST):
        edits.forecast = form.selected(Block.FORECAST)
    if form.has(Block.NEXT_STEP_DATE):
        edits.next_step_date = form.date(Block.NEXT_STEP_DATE)
        edits.clear_next_step_date = edits.next_step_date is None
    edits.clear_close_date = form.has(Block.CLOSE_DATE) and edits.close_date is None
    return edits


def shown_options(view: dict[str, Any], block_id: str) -> set[str]:
    """The option values a checkbox block offered (so unticked ones can be told apart from absent)."""
    for b in view.get("blocks") or []:
        if b.get("block_id") == block_id:
            return {o["value"] for o in (b.get("element") or {}).get("options") or []}
    return set()


def read_answers(form: Form, playbook: Playbook) -> Answers:
    """Qualification answers from the gate form's blocks (whatever subset it showed)."""
    answers = Answers()
    for block_id in form.blocks_starting(f"{Block.CHARACTERISTICS}__"):
        answers.characteristics |= form.checked(block_id)
    for block_id in form.blocks_starting(Block.BANT_PREFIX):
        key = block_id.removeprefix(Block.BANT_PREFIX)
        if key in {q.key for q in playbook.bant}:
            answers.bant[key] = form.text(block_id)
    for block_id in form.blocks_starting(Block.ROLE_PREFIX):
        key = block_id.removeprefix(Block.ROLE_PREFIX)
        if key in {r.key for r in playbook.roles}:
            answers.roles[key] = form.text(block_id).splitlines()
    for block_id in form.blocks_starting(Block.EVAL_PREFIX):
        key = block_id.removeprefix(Block.EVAL_PREFIX)
        if key in {e.key for e in playbook.evaluations}:
            answers.evaluations[key] = form.checked(block_id)
    return answers


def read_qualification(form: Form, playbook: Playbook) -> Qualification:
    """Roles (one name a line; empty clears) and yes / no / unknown per evaluation item."""
    q = Qualification()
    for role in playbook.roles:
        block_id = f"{Block.ROLE_PREFIX}{role.key}"
        if form.has(block_id):
            q.roles[role.key] = form.text(block_id).splitlines()
    answer = {"yes": True, "no": False, "unknown": None}
    for ev in playbook.evaluations:
        for item in ev.items:
            block_id = f"{Block.ITEM_PREFIX}{ev.key}__{item.key}"
            if form.has(block_id):
                q.evaluations.setdefault(ev.key, {})[item.key] = answer.get(form.selected(block_id) or "unknown")
    return q
