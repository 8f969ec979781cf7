"""Each person's language: gettext catalogs (Babel), the language in force, and Babel formatting.

Wording is marked in templates with ``{% trans %}`` / ``_("...")`` and in Python with
``_("...")`` (or ``N_("...")`` for a module-level constant, translated where it is shown).
``pybabel`` extracts it into ``bot/locale/messages.pot`` and each language's
``bot/locale/<lang>/LC_MESSAGES/messages.po`` (docs/languages.md). The ``.po`` files are
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
import re
import typing
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources

from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_name

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


def _lang(lang: str | None = None) -> str:
    return normalize(lang or current()) or DEFAULT


def _locale(lang: str | None = None) -> str:
    return BABEL_LOCALE[_lang(lang)]


# -- how dates, lists and amounts are written, per language: the one place for these rules ----------------
# (docs/glossary-zh.md says them for Chinese). English keeps ISO dates where a year matters; Chinese writes
# 年月日, the weekday as （周一） after the date, full-width ；、：（） between its items, and 万/亿 in charts.

def day(d: date, lang: str | None = None) -> str:
    """A day without its year: ``30 Nov`` / ``11月30日``."""
    return format_skeleton("MMMd", d, locale=_locale(lang))


def long_day(d: date, lang: str | None = None) -> str:
    """A day with its weekday: ``Monday 30 November`` / ``11月30日（周一）``."""
    if _lang(lang) == "zh":
        return f"{day(d, lang)}（{short_weekday(d, lang)}）"
    return format_skeleton("MMMMEEEEd", d, locale=_locale(lang))


def full_day(d: date, lang: str | None = None, *, within: date | None = None) -> str:
    """A day with its year: ``2027-05-05`` / ``2027年5月5日``. With ``within`` (a date the reader has in
    mind: when a plan was agreed, the week shown), Chinese leaves the year out when it is that date's."""
    if _lang(lang) == "zh":
        if within is not None and within.year == d.year:
            return day(d, lang)
        return format_skeleton("yMMMd", d, locale=_locale(lang))
    return d.isoformat()


def weekday(d: date, lang: str | None = None) -> str:
    """``Monday`` / ``周一`` (the glossary's one weekday form)."""
    if _lang(lang) == "zh":
        return short_weekday(d, lang)
    return format_date(d, "EEEE", locale=_locale(lang))


def short_weekday(d: date, lang: str | None = None) -> str:
    """``Mon`` / ``周一``."""
    return format_date(d, "EEE", locale=_locale(lang))


def weekday_time(at: datetime, lang: str | None = None) -> str:
    """A moment this week: ``Mon 09:00`` / ``周一 09:00``."""
    return f"{short_weekday(at.date(), lang)} {at:%H:%M}"


def day_time(at: datetime, lang: str | None = None, *, year: bool = False) -> str:
    """A moment: ``Monday 30 Nov 09:00`` / ``11月30日（周一）09:00`` (with ``year``: ``… 2026 09:00`` /
    ``2026年11月30日（周一）09:00``)."""
    d = at.date()
    if _lang(lang) == "zh":
        shown = f"{full_day(d, lang)}（{short_weekday(d, lang)}）" if year else long_day(d, lang)
        return f"{shown}{at:%H:%M}"
    clock = f"{at:%Y %H:%M}" if year else f"{at:%H:%M}"
    return f"{weekday(d, lang)} {day(d, lang)} {clock}"


def in_utc(text: str, lang: str | None = None) -> str:
    """A heading's time zone: ``Monday 30 November (UTC)`` / ``11月30日（周一）UTC``."""
    return f"{text} UTC" if _lang(lang) == "zh" else f"{text} (UTC)"


# Chinese runs sentences on without a space: the one a template puts between two of them goes after 。！？；：，
_SPACE_AFTER_FULL_STOP = re.compile(r"(?<=[。！？；：，、]) +(?=[^\s*_~`])")  # Slack markup keeps its space


def tidy(text: str, lang: str | None = None) -> str:
    """A rendered message in the reader's typography: in Chinese, no space after a full-width stop."""
    return _SPACE_AFTER_FULL_STOP.sub("", text) if _lang(lang) == "zh" else text


SEPARATORS = {  # between items of a list; after a label; around an aside
    "en": {"items": "; ", "enum": ", ", "colon": ": ", "open": " (", "close": ")"},
    "zh": {"items": "；", "enum": "、", "colon": "：", "open": "（", "close": "）"},
}


def _sep(kind: str, lang: str | None) -> str:
    return SEPARATORS.get(_lang(lang), SEPARATORS[DEFAULT])[kind]


def items(parts: Iterable[object], lang: str | None = None) -> str:
    """Items of a list of clauses: ``a; b`` / ``a；b``."""
    return _sep("items", lang).join(str(p) for p in parts)


def enum(parts: Iterable[object], lang: str | None = None) -> str:
    """Names in a row: ``a, b`` / ``a、b``."""
    return _sep("enum", lang).join(str(p) for p in parts)


def colon(lang: str | None = None, *, after_bold: bool = False) -> str:
    """After a label: ``: `` / ``：``. Slack draws ``*bold*`` only with a space or ASCII punctuation
    beside it, so after bold Chinese keeps a space: ``*标题* ：``."""
    return (" " if after_bold and _lang(lang) != "en" else "") + _sep("colon", lang)


def aside(text: object, lang: str | None = None, *, after_bold: bool = False) -> str:
    """An aside after a word: `` (text)`` / ``（text）`` (after ``*bold*``: `` （text）``)."""
    space = " " if after_bold and _lang(lang) != "en" else ""
    return f"{space}{_sep('open', lang)}{text}{_sep('close', lang)}"


# Chinese names of the currencies, as a chart or a headline writes them after 万/亿 (Babel's, shortened
# where people say it shorter: 澳元, not 澳大利亚元; 元 alone for the renminbi).
ZH_CURRENCY = {"CNY": "元", "AUD": "澳元", "CAD": "加元", "NZD": "新西兰元", "SGD": "新加坡元", "HKD": "港元"}


def short_money(value: Decimal | float, currency: str, lang: str | None = None, *, approx: bool = True) -> str:
    """An amount short enough for a chart: ``AUD 1.2M`` / ``CNY 340k``; in Chinese with 万/亿 and the
    currency's name: ``12万元``, ``93万澳元``, ``约100万澳元`` (约 when the rounding changed the figure,
    unless ``approx`` is off: a movement's ``+12万`` / ``−13.1万`` beside its bar)."""
    v = float(value)
    sign = "−" if v < 0 else ""
    v = abs(v)
    if _lang(lang) != "zh":
        return f"{sign}{currency} {short_number(v)}" if currency else sign + short_number(v)
    if v >= 100_000_000:
        shown, unit = round(v / 100_000_000, 2), "亿"
    elif v >= 10_000:
        shown, unit = round(v / 10_000, 1 if v < 1_000_000 else 0), "万"
    else:
        shown, unit = round(v), ""
    scale = {"亿": 100_000_000, "万": 10_000, "": 1}[unit]
    about = "约" if approx and abs(shown * scale - v) >= 0.5 else ""
    text = f"{shown:,.2f}".rstrip("0").rstrip(".") if unit else f"{shown:,.0f}"
    name = (ZH_CURRENCY.get(currency) or get_currency_name(currency, locale=_locale(lang))) if currency else ""
    return f"{sign}{about}{text}{unit}{name}"


def rate(per_day: Decimal | float, unit: str, lang: str | None = None) -> str:
    """How often a day: the number alone in English (``0.5``); in Chinese with its unit and, below once a
    day, as once every few days: ``每天 2 通``, ``每两天 1 次``, ``每 3 天 1 次``."""
    v = float(per_day)
    if _lang(lang) != "zh":
        return f"{v:g}"
    if 0 < v < 1:
        days = round(1 / v)
        return f"每{'两' if days == 2 else f' {days} '}天 1 {unit}"
    return f"每天 {v:g} {unit}"


def short_number(v: float) -> str:
    """``1.2M``, ``340k``, ``950``: the English short form, without a sign."""
    if v >= 1_000_000:
        return f"{v / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if v >= 10_000:
        return f"{v / 1000:.0f}k"
    if v >= 1000:
        return f"{v / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return f"{v:.0f}"


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
