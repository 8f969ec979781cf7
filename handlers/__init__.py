"""Slack listeners. Each package has ``register(app, deps)``; they stay thin:
ack, parse the payload, call a service, build blocks, reply."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from handlers import actions, checkin, commands, digest, events, views


def register(app: App, deps: Deps) -> None:
    commands.register(app, deps)
    actions.register(app, deps)
    views.register(app, deps)
    events.register(app, deps)
    checkin.register(app, deps)
    digest.register(app, deps)
