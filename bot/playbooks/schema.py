"""The playbook file's shape, checked by pydantic (types, required and unknown fields)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TextIn(_Strict):
    en: str = Field(min_length=1)
    zh: str | None = None


class ItemIn(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: TextIn


class BantIn(_Strict):
    key: str
    name: TextIn
    question: TextIn


class RoleIn(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: TextIn
    description: TextIn
    multiple: bool = False


class EvaluationIn(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: TextIn
    pass_mark: int
    items: list[ItemIn] = Field(min_length=1)


class ExitIn(_Strict):
    characteristics: list[str] = []
    bant: list[str] = []
    roles: list[str] = []
    evaluations: list[str] = []


class EntryIn(_Strict):
    marker: bool = False
    characteristics: list[str] = []
    bant: list[str] = []
    roles: list[str] = []
    evaluations: list[str] = []


class StageIn(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: TextIn
    marker: TextIn
    characteristics: list[ItemIn] = []
    actions: list[TextIn] = []
    probability: int
    forecast: str
    stall_days: int
    exit: ExitIn = ExitIn()
    entry: EntryIn = EntryIn()
    conditions: list[ItemIn] = []
    buyer_stage: TextIn | None = None


class LostIn(_Strict):
    name: TextIn
    reasons: list[TextIn] = []


class PlaybookIn(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    name: TextIn
    bant: list[BantIn]
    roles: list[RoleIn]
    evaluations: list[EvaluationIn] = []
    stages: list[StageIn]
    lost: LostIn
