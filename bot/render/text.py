"""The Jinja2 environment for message wording, and Slack's escaping rules.

Templates live in the top-level ``templates`` package so wording can change
(or be translated) without touching code. Every value printed by a template
is Slack-escaped unless wrapped in ``Markup``-like ``Raw``: user text can
never inject mentions or links.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import jinja2

from bot import i18n


def escape(text: object) -> str:
    """Slack's three control characters as entities (their documented rule)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Raw(str):
    """Text already in Slack markup (a mention, a link) that must not be escaped."""

    __slots__ = ()


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    return value if isinstance(value, Raw) else escape(value)


def _format(text: str, variables: dict[str, Any]) -> Raw:
    """A translated message with its variables Slack-escaped (unless ``Raw``): the
    ``{% trans %}`` counterpart of ``finalize``, which never sees a translation's parts."""
    return Raw(text % {k: _finalize(v) for k, v in variables.items()})


@jinja2.pass_context
def _gettext(_ctx: Any, message: str, /, **variables: Any) -> Raw:
    return _format(i18n.gettext(message), variables)


@jinja2.pass_context
def _ngettext(_ctx: Any, singular: str, plural: str, n: int, /, **variables: Any) -> Raw:
    variables.setdefault("num", n)
    return _format(i18n.ngettext(singular, plural, n), variables)


# Words the domain keys things by, as people read them: `{{ term(key) }}` in templates.
TERMS = {
    "pipeline": i18n.N_("pipeline"), "best_case": i18n.N_("best case"), "commit": i18n.N_("commit"),
    "new": i18n.N_("new"), "advanced": i18n.N_("advanced"), "moved_back": i18n.N_("moved back"),
    "slipped": i18n.N_("slipped"), "amount_changed": i18n.N_("amount changed"), "won": i18n.N_("won"),
    "lost": i18n.N_("lost"), "stalled": i18n.N_("stalled"), "slipping": i18n.N_("slipping"),
    "gaps": i18n.N_("gaps"), "big_late": i18n.N_("big late"),
    "no_update": i18n.N_("no update"), "next_step_overdue": i18n.N_("next step overdue"), "pending": i18n.N_("pending"),
    "partial": i18n.N_("partial"), "complete": i18n.N_("complete"), "away": i18n.N_("away"),
    "not started": i18n.N_("not started"), "in progress": i18n.N_("in progress"), "done": i18n.N_("done"),
}


def term(key: object) -> str:
    """A domain key (forecast category, change, concern, check-in status) in the language in force."""
    k = str(key)
    return i18n.gettext(TERMS[k]) if k in TERMS else k.replace("_", " ")


def whose(text: str) -> str:
    """Whose deals a list shows, as services name it ("you", "you and team", "Maria and team"), for the reader."""
    base, team = (text[: -len(" and team")], True) if text.endswith(" and team") else (text, False)
    who = i18n.gettext("you") if base == "you" else base
    return i18n.gettext("%(who)s and team") % {"who": who} if team else who


def mention(slack_user_id: str | None, fallback: str) -> Raw:
    return Raw(f"<@{slack_user_id}>") if slack_user_id else Raw(escape(fallback))


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("templates", ""),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Slack mrkdwn, not HTML: escaping is done by finalize
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # the templates ship with the code: no stat() of each one on every render
        extensions=["jinja2.ext.i18n"],
    )
    # Translations in the language in force (bot.i18n.language), their variables escaped like
    # any printed value. Newstyle gettext: `%` in wording is written as is in templates.
    env.policies["ext.i18n.trimmed"] = True
    env.globals.update(gettext=_gettext, _=_gettext, ngettext=_ngettext)
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.filters["money"] = lambda bag: i18n.money(bag)
    env.filters["amount"] = lambda value, currency=None: (  # without a currency: the number alone
        i18n.amount(value, currency) if currency else i18n.plain_amount(value))
    env.filters["number"] = lambda value: i18n.plain_amount(Decimal(value) if isinstance(value, int) else value)
    env.filters["day"] = lambda d: i18n.day(d)
    env.filters["long_day"] = lambda d: i18n.long_day(d)
    env.filters["weekday"] = lambda d: i18n.weekday(d)
    env.filters["full_day"] = lambda d, within=None: i18n.full_day(d, within=within)
    # Lists and asides with the reader's punctuation (bot.i18n.SEPARATORS): `{{ xs | items }}`, `{{ aside(x) }}`.
    env.filters["items"] = lambda xs: i18n.items(xs)
    env.filters["enum"] = lambda xs: i18n.enum(xs)
    env.filters["rate"] = lambda v, unit: i18n.rate(v, unit)  # `visits | rate("次")`: 每两天 1 次 in Chinese
    env.filters["in_lang"] = lambda texts, lang: [t.in_(lang) for t in texts]  # a playbook's texts, for one reader
    env.globals["colon"] = lambda after_bold=False: i18n.colon(after_bold=after_bold)
    env.globals["aside"] = lambda text, after_bold=False: Raw(i18n.aside(_finalize(text), after_bold=after_bold))
    env.globals["lang"] = i18n.current
    env.globals["term"] = term  # call it: {{ lang() }}
    env.filters["raw"] = lambda v: Raw(v)
    return env


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` to text, trimmed."""
    return environment().get_template(template).render(**context).strip()


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to Slack's ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
