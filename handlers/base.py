"""The guard every listener wears: Slack is always acknowledged, and every failure is answered."""

from __future__ import annotations

import inspect
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


WORK_KEY = "coach_work"  # Bolt context key of the executor that runs the work after an ack


def _no_ack(*args: Any, **kwargs: Any) -> None:
    """The ack was already sent: a second one would be ignored by Bolt anyway."""


def acked(fn: Callable[..., None]) -> Callable[..., None]:
    """For a listener whose first act is a plain ``ack()``: acknowledge at once, in the request's
    own thread, and run the listener (guarded) on the app's work executor.

    Bolt waits for ``ack()`` before answering Slack; when the listener itself ran in Bolt's
    small listener pool, the ack of each request queued behind the database work and Web API
    calls of the requests before it (the profile of bench/ack.py shows the HTTP threads
    polling for acks while the pool did listings and response_url posts). Here the part Bolt
    waits on is only the ack and a hand-off, so an ack never waits on another request's work,
    nor on the Web API.
    """
    inner = guarded(fn)
    params = list(inspect.signature(fn).parameters.values())
    wants_context = any(p.name == "context" for p in params)
    if not wants_context:
        params.append(inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD))

    def wrapper(**kwargs: Any) -> None:
        kwargs["ack"]()
        kwargs["ack"] = _no_ack
        context = kwargs["context"] if wants_context else kwargs.pop("context")
        executor = context.get(WORK_KEY)
        if executor is None:
            inner(**kwargs)
        else:
            executor.submit(inner, **kwargs)

    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__doc__ = fn.__doc__
    # Bolt passes a listener the arguments its signature names: the listener's own, and the context.
    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return wrapper
