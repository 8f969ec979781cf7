"""A local stand-in for Slack's Web API and Socket Mode, over real HTTP: for tests and the offline demo."""

from bot.fakeslack.server import Call, FakeSlack
from bot.fakeslack.socket_mode import FakeSocketMode

__all__ = ["Call", "FakeSlack", "FakeSocketMode"]
