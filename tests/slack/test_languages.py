"""Each person in their own language, end to end: the Slack locale with no configuration,
`/deal language`, the org CSV's `language` column, `COACH_LANGUAGE`, scheduled sends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import ConfigError, load_settings
from tests.slack.harness import all_text
from tests.slack.test_checkin import team  # noqa: F401 - the replayed team's fixture
from tests.slack.test_deal_commands import TIM, TOMMY, run


def _speaks(coach, email: str, locale: str) -> None:
    p = coach.person(email)
    coach.fake.add_user(coach.uid(email), email=email, name=email.split("@")[0], real_name=p.name,
                        tz=p.timezone or "Europe/Paris", locale=locale)


def test_a_zh_cn_slack_locale_gets_chinese_with_no_configuration(coach):
    _speaks(coach, TOMMY, "zh-CN")
    text = run(coach, "show D-3", TOMMY)
    assert "阶段：潜在客户" in text and "现在要做的" in text and "影响采购决定的四种角色" in text
    assert "Stage:" not in text and "What to do now" not in text
    assert coach.person(TOMMY).slack_locale == "zh-CN" and coach.person(TOMMY).language is None
    asked = coach.fake.calls_to("users.info")
    assert asked and all(str(c.params.get("include_locale")).lower() in ("1", "true") for c in asked)
    # errors and help too
    assert "我不认识 `/deal frobnicate`" in run(coach, "frobnicate", TOMMY)
    assert "新增商机" in run(coach, "help", TOMMY)
    # someone else keeps English
    assert "Stage: Prospect" in run(coach, "show D-3", TIM)


def test_deal_language_overrides_the_slack_locale_and_sticks(coach):
    _speaks(coach, TOMMY, "en-US")
    assert "Stage: Prospect" in run(coach, "show D-3", TOMMY)
    answer = run(coach, "language zh", TOMMY)
    assert "从现在起我用简体中文和你交流" in answer
    assert coach.person(TOMMY).language == "zh"
    assert "阶段：潜在客户" in run(coach, "show D-3", TOMMY)
    assert "用法：`/deal language zh|en`" in run(coach, "language fr", TOMMY)
    assert "From now on I speak English" in run(coach, "language en", TOMMY)
    assert "Stage: Prospect" in run(coach, "show D-3", TOMMY)


def test_the_workspace_default_applies_when_slack_gives_no_locale(tmp_path):
    base = {"COACH_DATA_DIR": str(tmp_path)}
    assert load_settings(base).language == "en"
    assert load_settings({**base, "COACH_LANGUAGE": "zh-CN"}).language == "zh"
    with pytest.raises(ConfigError, match="COACH_LANGUAGE"):
        load_settings({**base, "COACH_LANGUAGE": "klingon"})


def test_scheduled_prompts_speak_each_recipients_language(team):  # noqa: F811
    team.fake.add_user(team.uid("paris@x.io"), email="paris@x.io", name="pia", real_name="Pia Paris", locale="zh-CN")
    team.tick(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # 09:00 in Paris
    zh = [all_text(c.params.get("blocks")) for c in team.fake.messages(team.uid("paris@x.io"))]
    assert any("周一商机更新 · 11月23日当周" in t and "Pia，早上好" in t for t in zh), zh
    assert not any("Monday check-in" in t for t in zh)
    team.tick(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))  # 09:00 in New York: Nate stays in English
    assert team.prompts("ny@x.io")


def test_a_digest_is_in_its_recipients_language_whoever_is_in_it(coach):
    _speaks(coach, TIM, "zh-CN")
    text = run(coach, "digest", TIM, command="/pipeline")
    assert "销售漏斗周报" in text and "你的团队" in text and "Pipeline digest" not in text
    assert "目标客户" in text and "Target" not in text  # the playbook's stage names too
    assert "Tommy" in text  # names are kept as typed
    assert " days in " not in text and "missing BANT" not in text  # the flags are worded for the reader too


def test_the_order_choice_then_slack_locale_then_workspace():
    from bot.db.models import Person
    from bot.services.people import language_of

    def person(language=None, locale=None):
        return Person(email="x@x.io", name="X", language=language, slack_locale=locale)

    assert language_of(person(), "zh") == "zh"  # nothing known: the workspace's
    assert language_of(person(locale=""), "zh") == "zh"  # Slack gave no locale
    assert language_of(person(locale="en-GB"), "zh") == "en"  # Slack's wins over the workspace
    assert language_of(person(locale="zh-CN"), "en") == "zh"
    assert language_of(person(language="en", locale="zh-CN"), "zh") == "en"  # the choice wins over all
    assert language_of(person(locale="fr-FR"), "zh") == "zh"  # a language we don't speak: the workspace's


def test_the_home_tab_in_chinese(coach):
    from tests.slack.harness import wait_call

    _speaks(coach, TIM, "zh-CN")
    coach.slack.event({"type": "app_home_opened", "user": coach.uid(TIM), "tab": "home"}, event_id="EvZH1")
    text = all_text(wait_call(coach.fake, "views.publish").params["view"]["blocks"])
    assert "你在跟进的商机" in text and "你的团队" in text and "潜在客户" in text
    assert "Your open deals" not in text and "Prospect" not in text
