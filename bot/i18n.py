"""Each person's language: gettext catalogs (Babel), the language in force, and Babel formatting.

Wording is marked in templates with ``{% trans %}`` / ``_("...")`` and in Python with
``_("...")`` (or ``N_("...")`` for a module-level constant, translated where it is shown).
``pybabel`` extracts it into ``bot/locale/messages.pot`` and each language's
``bot/locale/<lang>/LC_MESSAGES/messages.po`` (README, "Languages"). The ``.po`` files are
the only catalogs in the repository: they are compiled in memory on first use, so a
``pip install`` from a clone needs no build step.

The language in force is a context variable: a request's unit of work, a scheduled send
and the demo set it to the recipient's language (``with language("zh"):``) and everything
rendered inside speaks it. English is the source language: an ``en`` lookup returns the
msgid itself.
"""

from __future__ import annotations

import gettext as _gettext
import io
import typing
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

from babel.dates import format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

DEFAULT = "en"
LANGUAGES = ("en", "zh")  # en is the source; every other one has a catalog in bot/locale
BABEL_LOCALE = {"en": "en_GB", "zh": "zh_Hans_CN"}  # what Babel formats dates and numbers with
NAMES = {"en": "English", "zh": "简体中文"}

_current: ContextVar[str] = ContextVar("coach_language", default=DEFAULT)


def normalize(value: str | None) -> str | None:
    """``zh-CN``, ``zh_Hans``, ``ZH``, ``en-US`` -> ``zh`` / ``en``; None for a language we don't speak."""
    if not value:
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def current() -> str:
    return _current.get()


@contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Speak ``lang`` (normalized; the default if unknown) for the duration of the block."""
    lang = normalize(lang) or DEFAULT
    token = _current.set(lang)
    try:
        yield lang
    finally:
        _current.reset(token)


E = typing.TypeVar("E", bound=BaseException)


def speaking(error: E, lang: str) -> E:
    """Tag ``error`` with the language it should be answered in (see ``spoken_by``)."""
    error.coach_language = lang  # type: ignore[attr-defined]
    return error


def spoken_by(error: BaseException) -> str | None:
    return getattr(error, "coach_language", None)


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``lang``: from its ``.po``, compiled in memory once per process."""
    if lang == DEFAULT:
        return _gettext.NullTranslations()
    po = resources.files("bot") / "locale" / lang / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return _gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def catalog_path(lang: str) -> str:
    return str(resources.files("bot") / "locale" / lang / "LC_MESSAGES" / "messages.po")


def gettext(message: str) -> str:
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    return message


_ = gettext


def _locale(lang: str | None = None) -> str:
    return BABEL_LOCALE[normalize(lang or current()) or DEFAULT]


def day(d: date, lang: str | None = None) -> str:
    """``30 Nov`` / ``11月30日``."""
    return format_skeleton("MMMd", d, locale=_locale(lang))


def long_day(d: date, lang: str | None = None) -> str:
    """``Monday 30 November`` / ``11月30日周一``."""
    return format_skeleton("MMMMEEEEd", d, locale=_locale(lang))


def weekday(d: date, lang: str | None = None) -> str:
    """``Monday`` / ``星期一``."""
    from babel.dates import format_date

    return format_date(d, "EEEE", locale=_locale(lang))


def number(value: int | Decimal | float, lang: str | None = None) -> str:
    return format_decimal(value, locale=_locale(lang))


def amount(value: Decimal, currency: str, lang: str | None = None) -> str:
    """One amount: ``USD 120,000`` in English (the code keeps a mixed-currency team exact),
    ``¥250,000`` / ``US$120,000`` in Chinese, as Babel writes them for ``zh_Hans_CN``."""
    whole = value == value.to_integral_value()
    lang = normalize(lang or current()) or DEFAULT
    if lang == "en":
        return f"{currency} {value:,.0f}" if whole else f"{currency} {value:,.2f}"
    pattern = "¤#,##0" if whole else "¤#,##0.00"
    return format_currency(value, currency, format=pattern, locale=_locale(lang), currency_digits=False)


def plain_amount(value: Decimal, lang: str | None = None) -> str:
    whole = value == value.to_integral_value()
    return format_decimal(value, format="#,##0" if whole else "#,##0.00", locale=_locale(lang))


def money(bag: Mapping[str, Decimal], lang: str | None = None) -> str:
    """A bag of amounts in several currencies: ``USD 120,000 + EUR 40,000``; ``0`` when empty."""
    parts = [amount(a, c, lang) for c, a in sorted(bag.items(), key=lambda kv: (-kv[1], kv[0])) if a]
    return " + ".join(parts) or "0"
