"""Small hand-built playbooks and deals for pure domain tests."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.deal import BantAnswer, DealFacts
from bot.domain.playbook import (
    BantQuestion,
    BuyingRole,
    Evaluation,
    ExitCriteria,
    Forecast,
    Item,
    Playbook,
    Stage,
    Text,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def stage(key: str, prob: int, exit: ExitCriteria, chars: tuple[str, ...] = (), stall: int = 14) -> Stage:
    return Stage(
        key=key,
        name=Text(key.title(), key + "-zh"),
        marker=Text(f"{key} marker"),
        characteristics=tuple(Item(c, Text(f"{c} text")) for c in chars),
        actions=(Text(f"do {key} things"),),
        probability=prob,
        forecast=Forecast.CLOSED if prob == 100 else Forecast.PIPELINE,
        exit=exit,
        stall_days=stall,
    )


def mini_playbook() -> Playbook:
    """a -> b -> c -> d(won), with criteria on a, b and c."""
    return Playbook(
        key="mini",
        name=Text("Mini"),
        stages=(
            stage("a", 10, ExitCriteria(characteristics=("fit",), bant=("need",)), chars=("fit",)),
            stage("b", 40, ExitCriteria(bant=("need", "budget"), roles=("economic_buyer",), evaluations=("real",))),
            stage("c", 70, ExitCriteria(characteristics=("signed_off",), roles=("coach",)), chars=("signed_off",)),
            stage("d", 100, ExitCriteria()),
        ),
        bant=tuple(BantQuestion(k, Text(k.title()), Text(f"{k}?")) for k in ("budget", "authority", "need", "timeline")),
        roles=(
            BuyingRole("economic_buyer", Text("Economic buyer"), Text("decides"), False),
            BuyingRole("coach", Text("Coach"), Text("guides us"), False),
        ),
        evaluations=(
            Evaluation("real", Text("Is it real?"), tuple(Item(f"r{i}", Text(f"r{i}")) for i in range(5)), 4),
        ),
    )


def deal(stage: str = "a", **kw: object) -> DealFacts:
    return DealFacts(ref=kw.pop("ref", "D-1"), name=kw.pop("name", "Acme rollout"), stage=stage, **kw)  # type: ignore[arg-type]


def bant(*keys: str, answer: str = "yes") -> dict[str, BantAnswer]:
    return {k: BantAnswer(answer, T0) for k in keys}
