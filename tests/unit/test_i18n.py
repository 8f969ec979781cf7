"""Every message in every language: the catalogs are complete and current, every template
macro renders in English and Chinese, and a Chinese message holds no English wording.

When a test here fails after you added or changed a text, the message says which msgids and
what to run (docs/languages.md: extract, update, translate).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot import i18n
from bot.domain.coverage import Coverage
from bot.domain.deal import Plan as ActionPlan
from bot.domain.forecast import ForecastCheck, ReviewRow
from bot.domain.history import Conversion
from bot.domain.plan import STEPS, ActivityRatios, activity_plan
from bot.domain.rollup import totals
from bot.domain.score import Improvement, Score
from bot.domain.stats import Outcomes, Ratio, Source, StageTime
from bot.domain.tiers import (
    Figures,
    ForecastLine,
    GlobalReport,
    RegionForecast,
    RegionLine,
    SignedFigure,
    TeamLine,
    sales_plan,
)
from bot.playbooks.loader import load_playbook
from bot.render.blocks import macro
from bot.render.deal_blocks import HistoryLine
from bot.render.text import Raw, environment
from bot.services.numbers import Numbers
from bot.services.targets import Activity, TargetInfo
from tests.unit.factories import bant, deal

ROOT = Path(__file__).resolve().parents[2]
PB = load_playbook("default")
AT = datetime(2026, 11, 30, 9, tzinfo=UTC)
OTHER_LANGUAGES = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]
FIX = ("pybabel extract -F babel.cfg --no-location --omit-header -k N_ -o bot/locale/messages.pot . && "
       "pybabel update -i bot/locale/messages.pot -d bot/locale --no-location, then translate in "
       "bot/locale/<lang>/LC_MESSAGES/messages.po (docs/languages.md)")


def _source_msgids() -> set[str]:
    """Every msgid in the code and templates now, extracted as `pybabel extract` does."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    out: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        out.add(message if isinstance(message, str) else message[0])
    return out


def _catalog(lang: str) -> dict[str, Any]:
    with (ROOT / "bot" / "locale" / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        cat = read_po(f, locale=lang)
    return {(m.id if isinstance(m.id, str) else m.id[0]): m for m in cat if m.id}


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_every_msgid_in_the_source_is_translated(lang: str) -> None:
    source = _source_msgids()
    assert len(source) > 150  # the extraction found the templates and the code
    catalog = _catalog(lang)
    absent = sorted(source - set(catalog))
    untranslated = sorted(k for k, m in catalog.items() if k in source and (
        "fuzzy" in m.flags or not (m.string if isinstance(m.string, str) else all(m.string))))
    assert not absent, f"{len(absent)} msgid(s) not in the {lang} catalog: {absent}\nRun: {FIX}"
    assert not untranslated, f"{len(untranslated)} msgid(s) without a {lang} translation: {untranslated}\nRun: {FIX}"


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_translations_keep_the_placeholders(lang: str) -> None:
    wrong = []
    for msgid, m in _catalog(lang).items():
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        want = sorted(re.findall(r"%\((\w+)\)s", msgid))
        wrong += [(msgid, s) for s in strings if s and sorted(set(re.findall(r"%\((\w+)\)s", s))) != sorted(set(want))]
    assert not wrong, f"translations whose %(name)s placeholders differ from the msgid: {wrong}"


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_bold_is_never_glued_to_chinese_characters(lang: str) -> None:
    """Slack draws *bold* only with a space or punctuation around it, which Chinese text lacks."""
    cjk = r"[\u4e00-\u9fff\uff00-\uffef]"
    glued = []
    for msgid, m in _catalog(lang).items():
        for s in [m.string] if isinstance(m.string, str) else list(m.string):
            if re.search(rf"{cjk}\*[^*\s][^*]*?\*|\*[^*\s][^*]*?\*{cjk}", s or ""):
                glued.append((msgid, s))
    assert not glued, f"put a space between *bold* and the Chinese next to it: {glued}"


# -- every macro, every language --------------------------------------------------------------

def _samples(lang: str) -> dict[Any, Any]:
    """A value for each macro argument name; (template, name) or (template, macro, name) when
    the same name means something else there. A new argument name needs a sample here."""
    d = deal("prospect", name="Acme rollout", account="Acme", amount=Decimal("250000"), currency="CNY",
             close_date=date(2026, 12, 31), bant=bant("need"), roles={"coach": ("Li Lei",)},
             next_step="demo", next_step_date=date(2026, 12, 4), characteristics=frozenset({"has_management_need"}))
    t = totals([d, deal("won", ref="D-2", amount=Decimal(5), currency="USD")], PB)
    node = SimpleNamespace(totals=t)
    item = SimpleNamespace(ref="D-1", text="Acme rollout", owner="Wang Fang", score=42)
    comment = SimpleNamespace(name="Wang Fang", text="ok", commit=Decimal(1), best_case=None, currency="CNY",
                              signed_off=True)
    history = [HistoryLine(AT, None, "prospect", "Ann", "", False),
               HistoryLine(AT, "prospect", "project", "Ben", "go", True)]
    stage_name = PB.stage_name("interested", lang)
    plan = activity_plan(target=Decimal(100000), achieved=Decimal(80000), average_deal=Decimal(2000),
                         ratios=ActivityRatios(), working_days=20)
    ratio = Ratio(1.5, 12, Source.TEAM)
    best = Improvement("role", "technical_buyer", 9)
    score = Score(42, {}, best)
    action = ActionPlan(1, "Call the CFO", "Li Lei", date(2026, 12, 4), "Wang Fang", AT)
    numbers = Numbers(
        name="Li Lei", email="li@example.com", is_manager=True, today=date(2026, 11, 30), window_days=182,
        currency="CNY", conversions=[Conversion("target", "prospect", 10, 6)], stage_ratios=[ratio],
        times=[StageTime("prospect", 12.0, 17.0, 8), StageTime("interested", None, None, 0)],
        stall_limits={"prospect": 21.0}, outcomes=Outcomes(3, 5, {"CNY": Decimal(47000)}, 79.0),
        target=TargetInfo("2026-Q4", Decimal(500000), "CNY", True), achieved=Decimal(120000),
        open_amount=Decimal(900000), weighted=Decimal(300000), activity_ratios=dict.fromkeys(STEPS, ratio),
        average_deal=Decimal(2000), average_from="won deals", working_days_left=20, period_end=date(2026, 12, 31),
        plan=plan, last_week=Activity(date(2026, 11, 23), 5, 12, 2, False), last_week_start=date(2026, 11, 23))
    coverage = Coverage("2026-Q4", "CNY", Decimal(500000), Decimal(120000), Decimal(900000), Decimal(300000), True)
    check = ForecastCheck(date(2026, 11, 23), Decimal(200000), Decimal(150000), "CNY")
    tier_plan = sales_plan(coverage, average_deal=Decimal(20000), ratios=ActivityRatios(), working_days=20)
    team = TeamLine("Wang Fang", "CNY", 4, Decimal(900000), Decimal(300000), Decimal(100000), Decimal(5000), coverage,
                    1, 3, 4)
    figures = Figures(Decimal(100000), Decimal(150000), Decimal(900000), "CNY")
    region = RegionForecast(figures, [ForecastLine("Wang Fang", Decimal(1), None, "CNY", True, True),
                                      ForecastLine("Li Lei", Decimal(2), Decimal(3), "CNY", False, False)],
                            SignedFigure(Decimal(90000), Decimal(150000), "CNY", "one slips", True), ("EUR",))
    report = GlobalReport("CNY", [RegionLine("Wang Fang", Decimal(1), Decimal(2), "CNY", Decimal(3), "CNY", Decimal(4),
                                             Decimal(5), check),
                                  RegionLine("Li Lei", None, None, "CNY", Decimal(3), "CNY", None, None)],
                          Decimal(10), Decimal(4))
    return {
        "answered": 1, "away": ["Wang Fang"], "c": comment, "candidates": [("D-1", "Acme rollout")],
        "changes": history, "command": "/deal lost REF REASON", "count": 3, "counts": [("new", 1), ("won", 2)],
        "d": d, "delta_open": "+¥1", "delta_weighted": "−¥1", "example": "/deal lost D-17 ...", "first": 1,
        "from_stage": "target", "is_manager": True, "items": [item], "key": "prospect", "kind": "override",
        "lang": lang, "last": 2, "late": ["Li Lei"], "line": Raw("*D-1* Acme"), "missing": ["BANT: x"],
        "more": 2, "multiple": True, "n": 4, "name": "Li Lei", "need": 4, "of": 5, "outcome": "updated",
        "overridden": True, "owner": "Li Lei", "page": 1, "pages": 2, "pb": PB, "position": 1, "query": "acme",
        "reason": "go", "ref": "D-1", "rows": [SimpleNamespace(name="Wang Fang", is_manager=True, status="partial",
                                                               node=node)],
        "stage": PB.stage("interested"), "stages": ["target", "prospect"], "t": t, "to": "interested",
        "to_stage": "interested", "total": t.open_amount, "until": date(2026, 12, 4), "user_id": "<@U1>",
        "value": "abc", "week": date(2026, 11, 30), "weighted": t.weighted, "whose": "Li Lei", "word": "foo",
        ("digest.j2", "comments", "rows"): [comment],
        "last_week": date(2026, 11, 23), "a": Activity(date(2026, 11, 23), 5, None, 2, False),
        "e": PB.evaluations[0], "score": score, "hint": True, "plans": [action], "p": action, "gaps": ["BANT: x"],
        "code": "EUR", "default": "USD", "own": True, "q": "misled", "x": 1.5, "s": SimpleNamespace(
            currency="CNY", commit=Decimal(1000), best_case=Decimal(2000)),
        "most": 100000, "length": 5000, "tier": 2, "currencies": ["CNY", "EUR"], "entering": True, "deals": [(d, score)],
        "shown": 3, "what": "Call the CFO", "who": "Li Lei", "due": date(2026, 12, 4), "within": date(2026, 11, 30), "b": "*", "best": best,
        "currency": "CNY", "v": Decimal("1.5"), "head": True, "period": "2026-Q4", "r": ratio, "unit": "visits",
        "f": d, "amount": Decimal(500000), "evaluation": "值得赢吗？", "item": "x", "changed": True,
        ("numbers.j2", "n"): numbers, ("numbers.j2", "plan", "p"): plan, ("numbers.j2", "s"): score,
        ("numbers.j2", "pct", "x"): 0.5,
        ("deal.j2", "confirmed_by", "d"): replace(d, confirmed={"has_management_need": SimpleNamespace(by="Li Lei", at=AT)}),
        ("deal.j2", "confirmed_by", "key"): "has_management_need",
        ("numbers.j2", "team_targets", "rows"): [SimpleNamespace(name="Wang Fang", is_manager=True, target=numbers.target),
                                                 SimpleNamespace(name="Li Lei", is_manager=False, target=None)],
        ("digest.j2", "coverage", "c"): coverage, ("digest.j2", "forecast_check", "c"): check,
        ("digest.j2", "reviews", "rows"): [ReviewRow("Wang Fang", check, "late", "", "yes", "call")],
        ("digest.j2", "reports", "rows"): [SimpleNamespace(name="Wang Fang", is_manager=True, status="partial",
                                                           node=node, coverage=coverage)],
        ("digest.j2", "cover_of", "c"): coverage, ("digest.j2", "tier_plan", "p"): tier_plan,
        "teams": [team, replace(team, name="Li Lei", coverage=None)], "weakest": replace(team, name="Li Lei"),
        "g": report,
        ("digest.j2", "tier_teams", "best"): team,
        ("digest.j2", "tier_region", "r"): region, ("digest.j2", "tier_global", "g"): report,
        ("gate.j2", "items"): ["BANT: x"],
        ("modals.j2", "stage"): stage_name, ("errors.j2", "stage"): stage_name,
        ("modals.j2", "from_stage"): stage_name, ("modals.j2", "to_stage"): stage_name,
    }


def _macros() -> list[tuple[str, str]]:
    env = environment()
    return [(t, name) for t in env.list_templates(extensions=["j2"])
            for name in dir(env.get_template(t).module) if hasattr(getattr(env.get_template(t).module, name), "arguments")]


def render_all(lang: str) -> dict[tuple[str, str], str]:
    env, samples, out = environment(), _samples(lang), {}
    with i18n.language(lang):
        for template, name in _macros():
            args = getattr(env.get_template(template).module, name).arguments
            unknown = [a for a in args if a not in samples]
            assert not unknown, f"{template}:{name}: add a sample for argument(s) {unknown} in tests/unit/test_i18n.py"
            ctx = {a: samples.get((template, name, a), samples.get((template, a), samples[a])) for a in args}
            out[(template, name)] = macro(template, name, **ctx)
    return out


def test_every_template_macro_renders_in_every_language() -> None:
    macros = _macros()
    assert len(macros) > 100
    for lang in i18n.LANGUAGES:
        rendered = render_all(lang)
        empty = [k for k, text in rendered.items() if not text.strip()]
        assert not empty, f"{lang}: macros rendered nothing: {empty}"


def _english_fragments() -> list[str]:
    """The literal English of every msgid: runs of at least two words between placeholders."""
    out = set()
    for msgid in _source_msgids():
        for part in re.split(r"%\(\w+\)s|`[^`]*`|[*_:()“”\"…·.;,!?]", msgid):
            words = re.findall(r"[A-Za-z']+", part)
            if len(words) >= 2 and not part.strip().startswith("Pipeline Coach"):
                out.add(" ".join(words))
    return sorted(out)


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_no_english_sentence_in_a_translated_message(lang: str) -> None:
    fragments = _english_fragments()
    assert "Good morning" in fragments and "can't move to" in fragments  # the check can find something
    leaks = []
    for key, text in render_all(lang).items():
        flat = " ".join(re.findall(r"[A-Za-z']+", text))
        leaks += [(key, f) for f in fragments if re.search(rf"\b{re.escape(f)}\b", flat)]
    assert not leaks, f"English wording in {lang} messages (untranslated): {leaks}"


def test_the_english_check_catches_an_untranslated_message() -> None:
    with i18n.language("zh"):
        text = macro("checkin.j2", "walk_button") + " " + "Good morning Li Lei!"
    flat = " ".join(re.findall(r"[A-Za-z']+", text))
    assert any(re.search(rf"\b{re.escape(f)}\b", flat) for f in _english_fragments())


def test_chinese_reads_as_the_source_wording_with_babel_formats() -> None:
    out = render_all("zh")
    assert out[("checkin.j2", "header")] == "周一商机更新 · 11月30日当周"
    assert "¥250,000" in out[("checkin.j2", "intro")]
    assert "12月4日（周五）" in out[("checkin.j2", "away_set")]
    assert "意向客户" in out[("checkin.j2", "coaching")]
    assert "销售机会是不是虚的？" in out[("deal.j2", "evaluation_items")]
    en = render_all("en")
    assert en[("checkin.j2", "header")] == "Monday check-in · week of 30 Nov"
    assert "CNY 250,000" in en[("checkin.j2", "intro")]


def test_translated_variables_are_still_slack_escaped() -> None:
    with i18n.language("zh"):
        text = macro("deal.j2", "updated", d=deal("prospect", name="<!channel> & co"))
    assert "&lt;!channel&gt; &amp; co" in text and "<!channel>" not in text


def test_language_names_and_locales() -> None:
    assert [i18n.normalize(x) for x in ("zh-CN", "zh_Hans", "ZH", "en-US", "fr-FR", "", None)] == \
        ["zh", "zh", "zh", "en", None, None, None]
    assert i18n.amount(Decimal("250000"), "CNY", "zh") == "¥250,000"
    assert i18n.amount(Decimal("1200.5"), "USD", "zh") == "US$1,200.50"
    assert i18n.amount(Decimal("250000"), "CNY", "en") == "CNY 250,000"
    assert (i18n.day(date(2026, 11, 30), "en"), i18n.day(date(2026, 11, 30), "zh")) == ("30 Nov", "11月30日")
    assert i18n.weekday(date(2026, 11, 30), "zh") == "周一"  # the glossary's one weekday form


def test_chinese_dates_lists_and_short_amounts_follow_the_glossary() -> None:
    d = date(2027, 5, 5)
    assert (i18n.full_day(d, "zh"), i18n.full_day(d, "en")) == ("2027年5月5日", "2027-05-05")
    assert i18n.full_day(date(2026, 12, 4), "zh", within=date(2026, 11, 30)) == "12月4日"  # the year in mind
    assert i18n.full_day(date(2027, 1, 4), "zh", within=date(2026, 11, 30)) == "2027年1月4日"
    assert i18n.long_day(date(2026, 11, 30), "zh") == "11月30日（周一）"
    assert i18n.long_day(date(2026, 11, 30), "en") == "Monday 30 November"
    assert (i18n.items(["a", "b"], "zh"), i18n.enum(["a", "b"], "zh"), i18n.aside("x", "zh")) == ("a；b", "a、b", "（x）")
    assert (i18n.items(["a", "b"], "en"), i18n.enum(["a", "b"], "en"), i18n.aside("x", "en")) == ("a; b", "a, b", " (x)")
    assert i18n.colon("zh", after_bold=True) == " ：" and i18n.colon("en", after_bold=True) == ": "
    assert [i18n.short_money(v, c, "zh") for v, c in [(120_000, "CNY"), (930_000, "AUD"), (1_000_400, "AUD"),
                                                        (5_500, "USD"), (-90_000, "EUR"), (123_456_789, "CNY")]] == [
        "12万元", "93万澳元", "约100万澳元", "5,500美元", "−9万欧元", "约1.23亿元"]
    assert i18n.short_money(1_200_000, "AUD", "en") == "AUD 1.2M"
    assert i18n.tidy("完成。 逐个过一遍： *没有变化*", "zh") == "完成。逐个过一遍： *没有变化*"
