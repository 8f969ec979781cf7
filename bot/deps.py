"""What every entry point needs, built one way: settings, database, playbook, clock."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db.engine import make_engine, make_session_factory
from bot.domain.playbook import Playbook
from bot.playbooks.loader import load_playbook


@dataclass
class Deps:
    settings: Settings
    clock: Clock

    @cached_property
    def engine(self) -> sa.Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> so.sessionmaker[so.Session]:
        return make_session_factory(self.engine)

    @cached_property
    def playbook(self) -> Playbook:
        return load_playbook(self.settings.playbook)


def build_deps(settings: Settings, *, clock: Clock | None = None) -> Deps:
    return Deps(settings=settings, clock=clock or SystemClock())
