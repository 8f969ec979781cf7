"""Errors a person can cause. Each names a macro in ``templates/errors.j2``,
so the wording (and its translation) lives with the other templates."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Something the person asked for cannot be done; ``key`` picks the message."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(f"{key}: {params}")
        self.key = key
        self.params = params
