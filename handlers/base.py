"""The guard every listener wears: Slack is always acknowledged, and every failure is answered."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from bot import i18n
from bot.render.blocks import macro, section
from bot.services.errors import UserError
from bot.slack.reply import Replier

log = logging.getLogger("coach.handlers")


class _Ack:
    """Remembers whether the listener acknowledged, so the guard can if it did not."""

    def __init__(self, ack: Callable[..., Any]) -> None:
        self._ack = ack
        self.done = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.done = True
        return self._ack(*args, **kwargs)


def guarded(fn: Callable[..., None]) -> Callable[..., None]:
    """Nothing a person does yields a 5xx or a stack trace: Slack is always
    acknowledged, a UserError becomes its ephemeral message, and anything
    else is logged with its traceback and answered with an apology."""

    @wraps(fn)
    def wrapper(**kwargs: Any) -> None:
        ack = _Ack(kwargs["ack"])
        kwargs["ack"] = ack
        replier = Replier(kwargs["client"], kwargs["body"])
        try:
            fn(**kwargs)
        except UserError as e:
            if not ack.done:
                ack()
            with i18n.language(i18n.spoken_by(e)):
                _safely(replier.error, e)
        except Exception as e:
            log.exception("listener %s failed", fn.__name__)
            if not ack.done:
                ack()
            with i18n.language(i18n.spoken_by(e)):
                _safely(replier.ephemeral, [section(macro("errors.j2", "internal"))])

    return wrapper


def _safely(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("could not tell the person about an error")
