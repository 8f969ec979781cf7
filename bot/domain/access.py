"""Who may see and act on which deal.

Reps act on their own deals; managers on every deal in their subtree; admins
on all. Only someone above the owner (or an admin) may override a gate, so a
rep cannot wave their own deal through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.org import chain_of_command, is_within


@dataclass(frozen=True)
class Viewer:
    key: str  # the person's key in ``managers``
    is_admin: bool = False


def can_see(viewer: Viewer, owner: str, managers: Mapping[str, str | None]) -> bool:
    return viewer.is_admin or is_within(managers, viewer.key, owner)


# Acting follows seeing: whoever may see a deal in their subtree may work it.
can_act = can_see


def can_override(viewer: Viewer, owner: str, managers: Mapping[str, str | None]) -> bool:
    return viewer.is_admin or viewer.key in chain_of_command(managers, owner)
