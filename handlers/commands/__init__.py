"""Slash commands: /deal and /pipeline."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from handlers.commands import deal, pipeline


def register(app: App, deps: Deps) -> None:
    deal.register(app, deps)
    pipeline.register(app, deps)
