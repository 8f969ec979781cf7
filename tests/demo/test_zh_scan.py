"""Chinese as docs/glossary-zh.md writes it, in every message kind.

Two sources of zh text are scanned: every template macro rendered in Chinese from fixture data
(``tests/unit/test_i18n.render_all``: each message, form, digest section and reply the templates
hold), and the whole demo week replayed in Chinese (``coach demo --lang zh --full``: the messages as
the app builds them, Python-worded parts included: digest movements and flags, gate forms, charts'
captions, the transcript's own lines). Messages to the demo's English readers are left out.

A zh text fails on:
- an ASCII word outside the allow-list (deal refs like D-17, currency codes, BANT, people's, accounts'
  and deals' names, the product's name, time zones);
- a half-width ``;`` ``:`` ``(`` ``)`` next to Chinese;
- an ISO date (``2026-12-04``) outside a command or a code span;
- a weekday other than the glossary's form: ``11月30日（周一）``, or ``周一 09:00`` for a time this week;
- ``*bold*`` glued to Chinese (Slack then shows the asterisks).
"""

from __future__ import annotations

import csv
import re
import sqlite3
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import i18n
from bot.cli import main
from tests.unit.test_i18n import render_all

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "bot" / "examples"
CJK = "\u4e00-\u9fff"
FULL = "\u3000-\u303f\uff00-\uffef"  # CJK punctuation and full-width forms

# Words a Chinese text may hold as they are.
ALLOWED = {
    "BANT", "ERP", "UTC", "Q1", "Q2", "Q3", "Q4", "Pipeline", "Coach", "Slack", "HTML", "PNG", "CSV", "ISO",
    "default", "industrial",  # a playbook's key, as `--playbook` takes it
    "US", "AU", "HK", "NZ", "CA", "SG",  # in US$, AU$, HK$… (Babel's zh symbols)
}
CURRENCIES = {"USD", "EUR", "GBP", "CNY", "JPY", "AUD", "CAD", "CHF", "INR", "SGD", "HKD", "SEK", "BRL", "NZD"}
# What the fixtures of tests/unit/test_i18n.py type (names, a deal, answers, comments): kept as typed.
TYPED = ["Call the CFO", "one slips", "Acme rollout", "Acme", "Li Lei", "Wang Fang", "Ann", "Ben", "abc", "foo",
         "go", "ok", "yes", "late", "call", "demo", "acme"]


@cache
def names() -> frozenset[str]:
    """Every word of the example org's people and the example deals' accounts and names: data, not wording."""
    words: set[str] = set()
    for path in EXAMPLES.glob("*.csv"):
        with path.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                for key in ("name", "account", "deal", "title", "owner_name", "manager"):
                    words.update(re.findall(r"[A-Za-z][A-Za-z'’]*", row.get(key) or ""))
    return frozenset(words)


def _strip(text: str) -> str:
    """What is not wording: Slack markup, code, commands, deal refs, times, zones, file names."""
    text = re.sub(r"<[^<>]*>", " ", text)  # <@U1>, <url|label>
    text = re.sub(r"`[^`]*`", " ", text)  # code spans: commands, CSV names
    text = re.sub(r":[a-z0-9_+-]+:", " ", text)  # emoji codes
    text = re.sub(r"/(deal|pipeline)\b[\w -]*", " ", text)  # a command typed in a note
    text = re.sub(r"\b[\w.-]+\.(png|html|svg|csv|db)\b", " ", text)  # file names
    text = re.sub(r"\b(Africa|America|Asia|Australia|Europe|Pacific)/\w+", " ", text)  # time zones
    text = re.sub(r"/[\w/.+-]+", " ", text)  # paths
    return re.sub(r"\bD-\d+\b", " ", text)


def problems(text: str, typed: Sequence[str] = ()) -> list[str]:
    """What in one zh text breaks the glossary's rules (empty when none); ``typed``: what people typed in it."""
    bare = _strip(text)
    for t in typed:
        bare = re.sub(rf"(?<![A-Za-z]){re.escape(t)}(?![A-Za-z])", " ", bare)
    found = []
    for word in re.findall(r"[A-Za-z][A-Za-z'’]*\d*", bare):
        if word not in ALLOWED and word not in CURRENCIES and word not in names() and len(word) > 1:
            found.append(f"English word {word!r}")
    for m in re.finditer(rf"[{CJK}{FULL}][*_]?\s?[;:]|[;:]\s?[*_]?[{CJK}]", bare):
        found.append(f"half-width {m.group(0)!r}")
    for m in re.finditer(rf"[{CJK}][*_]?\s?\(|\)\s?[*_]?[{CJK}]|\([^()]*[{CJK}][^()]*\)", bare):
        found.append(f"half-width brackets {m.group(0)!r}")
    for m in re.finditer(r"\b\d{4}-\d{2}-\d{2}\b", bare):
        found.append(f"ISO date {m.group(0)!r}")
    # The weekday: 11月30日（周一） beside a date, 周一 09:00 for a time this week; never 星期一, 11月30日周一.
    for m in re.finditer(r"星期[一二三四五六日天]|日\s?周[一二三四五六日]|周[一二三四五六日]\s?\d{1,2}月", bare):
        found.append(f"weekday form {m.group(0)!r}")
    for m in re.finditer(rf"[{CJK}{FULL}]\*[^*\s][^*\n]*\*|(?<![\w*])\*[^*\s][^*\n]*\*[{CJK}{FULL}]", text):
        found.append(f"bold glued to Chinese {m.group(0)[:20]!r}")
    return found


def test_the_scan_catches_each_kind_of_mistake() -> None:
    """Each rule fires on a bad string and stays quiet on the glossary's own forms."""
    assert problems("周一商机更新 · 11月30日当周；目标 US$120,000 · *D-17* 缺少 BANT：需求（Fiona Wood）") == []
    assert problems("11月30日（周一）09:00 UTC · 私信给 Wang Zhenyi（周一 09:00 Asia/Shanghai）") == []
    assert problems("`/deal away until 2026-12-04`：暂停周一商机更新") == []
    assert problems("在跟进 · pipeline 漏斗")[0].startswith("English word 'pipeline'")
    assert problems("有需求; 认同外购") and problems("评估: 销售机会是不是虚的？")
    assert problems("*离开认可客户* (小组跟进后客户基本认可)")
    assert problems("预计 2027-05-05 成交") == ["ISO date '2027-05-05'"]
    assert problems("星期一 11月30日") and problems("11月30日周一")
    assert problems("*离开潜在客户阶段*（标志：有销售机会）") and not problems("*离开潜在客户阶段* （标志：有销售机会）")


def test_every_template_message_in_chinese_follows_the_glossary() -> None:
    rendered = render_all("zh")
    assert len(rendered) > 100
    bad = {key: found for key, text in rendered.items() if (found := problems(text, TYPED))}
    assert not bad, f"zh messages that break docs/glossary-zh.md: {bad}"


# -- the demo week in Chinese ---------------------------------------------------------------

HEADS = [  # the transcript's heading of a message, and who it is for (bot/locale/zh: the demo's lines)
    re.compile(r" · 私信给 (?P<who>.+?)（"), re.compile(r" · 仅 (?P<who>.+?) 可见的回复$"),
    re.compile(r" · 为 (?P<who>.+?) 打开表单“"), re.compile(r" · 表单提示 (?P<who>.+?) 需要修改的地方$"),
    re.compile(r" · 发给 (?P<who>.+?) 的图表$"), re.compile(r" · 发到频道 (?P<who>.+)$"),
]


@pytest.fixture(scope="module")
def zh_week(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("zh-week")
    with pytest.MonkeyPatch.context() as mp:
        for var in ("DATABASE_URL", "COACH_CONFIG", "COACH_PLAYBOOK", "SLACK_BOT_TOKEN", "SLACK_API_URL"):
            mp.delenv(var, raising=False)
        mp.setenv("COACH_DATA_DIR", str(tmp / "data"))
        out = tmp / "out"
        result = CliRunner().invoke(main, ["demo", "--lang", "zh", "--full", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(out / "demo.db") as db:
        readers = {name: i18n.normalize(lang) or i18n.normalize(locale) or "zh"
                   for name, lang, locale in db.execute("select name, language, slack_locale from person")}
    return result.output, readers


def _entries(transcript: str) -> list[tuple[str, str | None, str]]:
    """(heading, recipient or None, body) for each message; the transcript's own lines with None, ''."""
    out: list[tuple[str, str | None, str]] = []
    for line in transcript.splitlines():
        if line.startswith("    ") and out:
            head, who, body = out[-1]
            out[-1] = (head, who, body + "\n" + line.strip())
            continue
        who = next((m.group("who") for h in HEADS if (m := h.search(line))), None)
        out.append((line, who, ""))
    return out


def test_the_demo_week_in_chinese_follows_the_glossary(zh_week) -> None:
    transcript, readers = zh_week
    entries = _entries(transcript)
    kinds = {h.pattern for h in HEADS for head, _who, _body in entries if h.search(head)}
    assert len(kinds) >= 5  # DMs, private replies, forms, form errors, charts: every kind the week sends
    bad = []
    for head, who, body in entries:
        texts = [head] + ([body] if body and (who is None or readers.get(who, "zh") == "zh") else [])
        for text in texts:
            if found := problems(text):
                bad.append((head[:60], found))
    assert not bad, f"{len(bad)} zh texts break docs/glossary-zh.md, e.g. {bad[:12]}"
    # Each message kind of the week was there to be scanned, in Chinese.
    for needle in ("## 周一商机更新 · 11月30日当周", "还不能进入", "## 团队例会 · ", "## 销售漏斗周报 · ",
                   "本大区预测（待认可）", "全球报表：各大区认可的预测", "预测复盘", "的行动计划："):
        assert needle in transcript, needle
