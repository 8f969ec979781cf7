"""`coach demo` and `coach shell`: the product without Slack, through the real app."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from xml.dom import minidom

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from click.testing import CliRunner

from bot.cli import main
from bot.db.models import Person
from bot.render.blocks import section
from bot.services.digests import save_comment
from handlers.deal import command as deal_commands

EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for var in ("DATABASE_URL", "COACH_CONFIG", "COACH_PLAYBOOK", "SLACK_BOT_TOKEN", "SLACK_API_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))


def demo(tmp_path: Path, *args: str):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["demo", "--out", str(out), *args], catch_exceptions=False)
    return result, out


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """One run of the default demo, shared by the tests that only read what it printed and wrote."""
    tmp = tmp_path_factory.mktemp("week")
    with pytest.MonkeyPatch.context() as mp:
        for var in ("DATABASE_URL", "COACH_CONFIG", "COACH_PLAYBOOK", "SLACK_BOT_TOKEN", "SLACK_API_URL"):
            mp.delenv(var, raising=False)
        mp.setenv("COACH_DATA_DIR", str(tmp / "data"))
        result, out = demo(tmp)
    assert result.exit_code == 0, result.output
    return result, out


def test_the_demo_shows_the_whole_week(week):
    result, out = week
    text = result.output
    # Monday: prompts in each rep's timezone, coaching at a gate, reminders, someone away.
    assert text.count("## Monday check-in") >= 25
    assert "(Mon 09:00 Australia/Sydney)" in text and "(Mon 09:00 America/Los_Angeles)" in text
    assert "can't move to" in text and "I've opened a form asking for exactly these" in text
    assert "isn't finished yet" in text
    assert "you're away until Wednesday 2 December" in text
    assert "moved from" in text  # one rep advances a deal
    # Monday afternoon: a first-line manager's team meeting, and an action plan agreed.
    assert "holds the Monday team meeting: /pipeline review" in text and "## Team meeting · " in text
    assert ":dart: Action plan for *D-" in text
    # Tuesday to Friday: every manager gets one digest; comments go up the chain.
    with sqlite3.connect(out / "demo.db") as db:
        managers = db.execute("select count(*) from person where tier > 0").fetchone()[0]
        digests = db.execute("select p.tier, count(*) from scheduled_send s join person p on p.id = s.recipient_id "
                             "where s.step = 'digest' and s.status = 'sent' group by p.tier").fetchall()
        comments = db.execute("select count(*) from manager_comment").fetchone()[0]
    assert sum(n for _, n in digests) == managers and {t for t, _ in digests} == {1, 2, 3, 4}
    # Two managers comment, three region heads sign off; last week's three sign-offs were seeded.
    assert comments == 3 + 5 and text.count("*From your managers*") == 3
    assert "5 manager comments carried up" in text
    # Each tier's digest opens with what that tier does.
    assert "*Sales plan 2026-Q4*" in text and "\n    *Your teams compared*\n" in text
    assert text.count("*Your region's forecast, to sign off*") == 3
    # Last week's signed-off forecasts against what was won: Ada's missed by more than the margin.
    assert "Last week Ada Lovelace signed off a forecast of USD " in text
    assert "more than 20% apart, so this week's digest asks why." in text
    assert "*Forecast against actual, week of 23 Nov*: you forecast USD " in text
    assert "Ada Lovelace answers the review's four questions" in text and "Your forecast review is saved" in text
    # The region heads sign off (认可): two with one click, one adjusts the figure with a comment.
    assert text.count("signs off the region's forecast as rolled up, with one click") == 2
    assert "Wang Zhenyi adjusts the region's forecast after reading the comments" in text
    assert "form “Adjust the forecast” opens for Wang Zhenyi" in text
    assert "Signed off for the week of 30 Nov, adjusted: commit USD " in text
    # The top's global report: each region's signed-off figure, and the review's answers from the tier below.
    top = text.split("Pipeline digest · week of 30 Nov · Grace Hopper", 1)[1]
    assert "*Global report: each region's signed-off forecast*" in top
    assert top.count(":white_check_mark: signed off: commit USD ") == 3 and "*Total*: 3 of 3 regions signed off" in top
    assert "*Forecast reviews from your managers*" in top and "Wrong: We counted two renewals as commit" in top
    with sqlite3.connect(out / "demo.db") as db:
        assert db.execute("select count(*) from action_plan").fetchone()[0] == 1
        assert db.execute("select count(*) from manager_comment where signed_off_at is not null "
                          "and week = '2026-11-30'").fetchone()[0] == 3
        assert db.execute("select count(*) from forecast_review").fetchone()[0] == 1
    for day in ("Tuesday 1 December", "Wednesday 2 December", "Thursday 3 December", "Friday 4 December"):
        assert day in text
    assert "Pipeline digest · week of 30 Nov · Grace Hopper" in text  # the top, on Friday
    # The HTML preview: an index and a page per message and form.
    index = (out / "index.html").read_text()
    pages = list((out / "messages").glob("*.html"))
    assert "Pipeline digest" in index and "Monday check-in" in index and len(pages) > 60
    assert "HTML preview of every message and form: " + str(out / "index.html") in text
    picture = (out / "digest.svg").read_text().replace("\u00a0", " ")
    minidom.parseString(picture)  # well-formed SVG
    assert "Pipeline digest · week of 30 Nov · Grace Hopper" in picture and "From your managers" in picture


def test_the_demo_runs_the_real_handlers(clean_env, tmp_path, monkeypatch):
    """A change to a handler shows up in the demo: it is the app, not a copy of it."""
    original = deal_commands.SUBCOMMANDS["away"]

    def away(work, cmd, body):
        original(work, cmd, body)
        work.reply([section("PATCHED AWAY HANDLER")])

    monkeypatch.setitem(deal_commands.SUBCOMMANDS, "away", away)
    (tmp_path / "org.csv").write_text(SMALL_ORG)
    (tmp_path / "deals.csv").write_text(SMALL_DEALS)
    result, _ = demo(tmp_path, "--org", str(tmp_path / "org.csv"), "--deals", str(tmp_path / "deals.csv"))
    assert result.exit_code == 0 and "PATCHED AWAY HANDLER" in result.output


SMALL_ORG = """email,name,manager_email,slack_user_id,timezone,country
boss@example.com,Bo Boss,,,Europe/Berlin,DE
lead@example.com,Lee Lead,boss@example.com,,Europe/Berlin,DE
""" + "".join(f"rep{n}@example.com,Rep {n},lead@example.com,,Europe/Berlin,DE\n" for n in range(1, 8))
SMALL_DEALS = "ref,name,account,owner_email,amount,currency,stage,close_date,next_step\n" + "".join(
    f"D-{n}{k},Deal {n}{k},Acme {n},rep{n}@example.com,{10000 * (n + k)},EUR,{stage},2027-03-31,Call\n"
    for n in range(1, 8) for k, stage in enumerate(("prospect", "interested", "shortlisted")))


def test_the_seed_decides_who_does_what(clean_env, tmp_path):
    org, deals = tmp_path / "org.csv", tmp_path / "deals.csv"
    org.write_text(SMALL_ORG)
    deals.write_text(SMALL_DEALS)

    def actions(seed: str, folder: str) -> list[str]:
        result = CliRunner().invoke(main, ["demo", "--seed", seed, "--out", str(tmp_path / folder),
                                           "--org", str(org), "--deals", str(deals)])
        assert result.exit_code == 0, result.output
        return [line for line in result.output.splitlines() if line.startswith("  » ")]

    first, again, other = actions("3", "a"), actions("3", "b"), actions("4", "c")
    assert first == again and first != other
    assert len(first) > 5


def test_the_demo_takes_your_own_files_and_refuses_bad_ones(clean_env, tmp_path):
    r = CliRunner().invoke(main, ["demo", "--org", str(EXAMPLES / "org.csv")])
    assert r.exit_code == 2 or "give both --org FILE and --deals FILE" in r.output
    bad = tmp_path / "deals.csv"
    bad.write_text("ref,name,account,owner_email,amount,currency,stage,close_date,next_step\n"
                   ",Big deal,Acme,nobody@example.com,lots,USD,prospect,2027-01-01,\n")
    r, _ = demo(tmp_path, "--org", str(EXAMPLES / "org.csv"), "--deals", str(bad))
    assert r.exit_code == 1 and "nothing was imported" in r.output and "Traceback" not in r.output
    r, _ = demo(tmp_path, "--playbook", "nope")
    assert r.exit_code == 1 and "Traceback" not in r.output


def test_the_demo_keeps_a_crm_exports_history_and_says_what_it_invents(clean_env, tmp_path):
    crm = Path(__file__).parents[1] / "fixtures" / "crm"
    r, out = demo(tmp_path, "--org", str(crm / "org.csv"), "--deals", str(crm / "hubspot_deals.csv"),
                  "--preset", "hubspot")
    assert r.exit_code == 0, r.output
    first = r.output.splitlines()[0]
    assert first == ("History: from your files for all 117 deals; reps' weekly activity and targets made up "
                     "(deal files carry none).")
    with sqlite3.connect(out / "demo.db") as db:
        assert db.execute("select count(*) from deal").fetchone()[0] == 117  # no deals made up
        # A won deal keeps the day the export says it was won.
        won = db.execute("select stage_entered_at from deal where crm_id = '9607232932'").fetchone()[0]
    assert won.startswith("2026-06-13 06:00")
    r, _ = demo(tmp_path, "--org", str(EXAMPLES / "org.csv"), "--deals", str(EXAMPLES / "deals.csv"))
    assert r.output.splitlines()[0].startswith("History: invented for 90 deals without dates; ")
    r, _ = demo(tmp_path, "--preset", "hubspot")
    assert r.exit_code == 1 and "give --org FILE and --deals FILE too" in r.output


@pytest.fixture
def org_db(clean_env, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'shell.db'}")
    runner = CliRunner()
    for args in (["init"], ["org", "import", str(EXAMPLES / "org.csv")], ["deals", "import", str(EXAMPLES / "deals.csv")]):
        assert runner.invoke(main, args).exit_code == 0
    return runner


SCRIPT = """\
/deal advance D-57
1,2
1
Their quotes take a week
:tick 2026-11-30T09:00Z
:click 4
:click 99
:bogus
:as tim.bernerslee@example.com
/pipeline digest
:quit
"""


def test_the_shell_runs_a_scripted_session(org_db):
    r = org_db.invoke(main, ["shell", "--as", "tommy.flowers@example.com", "--at", "2026-11-27T12:00Z"], input=SCRIPT)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "can't move to *Interested* yet" in out  # the gate coaches...
    assert "┌─ form: Advance D-57" in out and "Now true of the customer (Prospect)" in out  # ...and asks
    assert "Now true of the customer (Interested)" in out and "Fits the product's application profile" in out
    assert "moved from Prospect to *Interested*" in out  # answered, the move completes
    assert "## Monday check-in · week of 30 Nov" in out  # :tick ran the schedule: Tommy's prompt
    assert ":white_check_mark: _no change_" in out  # :click 4 pressed "No change" on the second deal
    assert "there is no button '99'" in out and "Type a slash command like /deal help" in out
    assert "You are now Tim Berners-Lee." in out and "Pipeline digest · week of 30 Nov · Tim Berners-Lee" in out


def test_the_shell_form_shows_errors_and_can_be_cancelled(org_db):
    script = "/deal advance D-57\n\n\n\n:cancel\n:quit\n"
    r = org_db.invoke(main, ["shell", "--as", "tommy.flowers@example.com", "--at", "2026-11-27T12:00Z"], input=script)
    assert r.exit_code == 0, r.output
    assert "✗ Need: What problem does the customer need solved, and what does it cost them today?: Still needed to leave Prospect." in r.output and "form closed without saving" in r.output


def test_the_shell_refuses_someone_not_in_the_org(org_db):
    r = org_db.invoke(main, ["shell", "--as", "nobody@example.com"])
    assert r.exit_code == 1 and "nobody@example.com is not in the org" in r.output


def test_the_demo_with_another_playbook(clean_env, tmp_path):
    result, out = demo(tmp_path, "--playbook", "industrial")
    assert result.exit_code == 0, result.output
    assert "the industrial playbook" in result.output and "Pipeline digest" in result.output
    index = (out / "index.html").read_text()
    assert "Need cultivation" in index and "Solution evaluation" in index and "Project approved" not in index


def test_managers_forecasts_come_from_their_own_pipeline(week):
    """Each comment's forecast is in the currency most of the team's open pipeline is in, and
    commit <= best case <= that open pipeline; no two managers say the same thing."""
    _, out = week
    with sqlite3.connect(out / "demo.db") as db:
        managers = dict(db.execute("select id, manager_id from person"))
        comments = db.execute("select author_id, text, commit_amount, best_case_amount, currency "
                              "from manager_comment where signed_off_at is null").fetchall()
        deals = db.execute("select owner_id, amount, currency from deal where stage not in ('won', 'lost')").fetchall()
    assert len(comments) == 2  # the region heads sign off instead

    def beneath(boss: int) -> set[int]:
        team, grew = {boss}, True
        while grew:
            more = {p for p, m in managers.items() if m in team} - team
            team |= more
            grew = bool(more)
        return team

    for author, text, commit, best, currency in comments:
        team = beneath(author)
        open_by_currency: dict[str, float] = {}
        for owner, amount, cur in deals:
            if owner in team:
                open_by_currency[cur] = open_by_currency.get(cur, 0) + float(amount)
        assert currency == max(open_by_currency, key=open_by_currency.get), (currency, open_by_currency)
        assert 0 < float(commit) <= float(best) <= open_by_currency[currency]
        assert currency in text  # the comment talks about the team's own numbers
    assert len({text for _, text, *_ in comments}) == 2


def test_the_transcript_and_preview_read_right(week):
    result, out = week
    text = result.output
    assert not re.search(r"\b1 more lines", text) and "deal(s)" not in text
    # Counts agree with their nouns wherever they appear ("1 more line", "3 more lines", "1 deal").
    mores = re.findall(r"\b(\d+) more (lines?) \(in the HTML preview\)", text)
    deals = re.findall(r"\b(\d+) (deals?) “No change”", text)
    assert mores and deals
    assert all((n == "1") == (noun in ("line", "deal")) for n, noun in mores + deals), mores + deals
    index = (out / "index.html").read_text()
    pages = sorted((out / "messages").glob("*.html"))
    # Emoji as Slack draws them, not their codes.
    for code in (":alarm_clock:", ":palm_tree:", ":rocket:", ":speech_balloon:", ":arrow_right:"):
        assert code not in index
    assert "⏰" in index and "🌴" in index and "🚀" in index and "💬" in index and "➡️" in index
    # The index links every message page.
    links = re.findall(r'href="(messages/[^"]+)"', index)
    assert len(links) == len(pages) and all((out / link).exists() for link in links)
    # Forms show their title and their buttons.
    form = next(p for p in pages if "-form-" in p.name).read_text()
    assert '<div class="modal-title">' in form and "Cancel" in form and 'class="btn primary"' in form


def test_one_attention_line_per_deal(week):
    _, out = week
    digest = (out / "digest.svg").read_text()
    refs = re.findall(r'font-weight="bold">(D-\d+)</tspan>', digest.split("Needs attention")[1])
    assert refs and len(refs) == len(set(refs))


def test_the_demo_has_history_behind_its_numbers_and_draws_the_charts(clean_env, tmp_path):
    result, out = demo(tmp_path)
    assert result.exit_code == 0, result.output
    assert "Two quarters behind them: " in result.output
    with sqlite3.connect(out / "demo.db") as db:
        closed = dict(db.execute("select stage, count(*) from deal where stage in ('won', 'lost') group by stage"))
        first_move = db.execute("select min(changed_at) from stage_change").fetchone()[0]
        weeks = db.execute("select count(distinct week) from weekly_activity").fetchone()[0]
        targets = db.execute("select count(*) from target").fetchone()[0]
        charts = db.execute("select count(*) from scheduled_send where step = 'digest_charts' and status = 'sent'"
                            ).fetchone()[0]
    assert closed["won"] > 50 and closed["lost"] > 50 and first_move < "2026-06-15"
    assert weeks == 27 and targets > 20
    # Stalled deals are the exception, as in a real pipeline: flagged in few digests' attention lists.
    text = (out / "index.html").read_text()
    assert text.count("Needs attention") >= 16 and len(re.findall(r"Needs attention</b>[^<]* stalled \d", text)) < text.count("Needs attention")
    # Every digest is followed by its charts, written beside the HTML and shown in it.
    pngs = sorted((out / "charts").glob("*.png"))
    assert charts == 16 and len([p for p in pngs if p.name.startswith("funnel-")]) == 16
    assert any(p.name.startswith("waterfall-") for p in pngs) and any(p.name.startswith("activity-") for p in pngs)
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    assert text.count('<img src="charts/') == len(pngs)
    assert "Charts shared with the digests (PNG): " + str(out / "charts") in result.output


def test_the_shell_holds_the_team_meeting_and_the_region_head_signs_off(org_db, tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("date,from,to,rate\n2026-01-01,EUR,USD,1.08\n2026-01-01,GBP,USD,1.27\n")
    assert org_db.invoke(main, ["rates", "import", str(rates)]).exit_code == 0
    script = ("/pipeline review\n:click 1\nCall the CFO with our director\nTommy\n2026-12-04\n"
              ":as ada.lovelace@example.com\n/pipeline digest\n:click 1\n:quit\n")
    r = org_db.invoke(main, ["shell", "--as", "tim.bernerslee@example.com", "--at", "2026-11-30T15:00Z"], input=script)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "## Team meeting · Tim Berners-Lee" in out and "[1: Action plan]" in out
    assert "┌─ form: Action plan · D-" in out and ":dart: Action plan for *D-" in out
    assert "[1: Sign off]" in out
    assert ":white_check_mark: Signed off for the week of 30 Nov: commit USD " in out


def test_the_top_digest_reads_in_one_reporting_currency(week):
    """The demo imports the company's rates (bot/examples/rates.csv): totals, forecasts, coverage and the
    team lines of the top digest are all in USD, whatever currencies the deals are in."""
    _, out = week
    svg = (out / "digest.svg").read_text()
    text = re.sub(r"<[^>]+>", " ", svg)
    head = text.split("Open pipeline", 1)[1].split("From your managers", 1)[0]
    team = text.split("Global report", 1)[1].split("Open pipeline", 1)[0]
    for part in (head, team):
        assert "USD" in part
        assert not re.search(r"\b(CNY|EUR|GBP|AUD)\b", part), part
    assert "coverage 0.0×" not in team


ZH_SCRIPT = """\
/deal language zh
/deal advance D-57
1,2
1
他们报价要一周
:click 99
/deal language en
:quit
"""


def test_the_shell_speaks_chinese_after_deal_language_zh(org_db):
    r = org_db.invoke(main, ["shell", "--as", "tommy.flowers@example.com", "--at", "2026-11-27T12:00Z"],
                      input=ZH_SCRIPT)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "从现在起我用简体中文和你交流" in out
    assert "*D-57* 还不能进入 *意向客户*" in out and "┌─ 表单：推进 D-57" in out  # the gate coaches, in Chinese
    assert "已从潜在客户推进到 *意向客户*" in out  # and the move completes
    assert "没有按钮 '99'" in out  # the shell's own words too
    assert "From now on I speak English" in out


def test_the_demo_in_chinese_is_a_mixed_language_week(clean_env, tmp_path):
    r, out = demo(tmp_path, "--lang", "zh")
    assert r.exit_code == 0, r.output
    text = r.output
    assert "这是一个多语言团队" in text and "周一商机更新 · 11月30日当周" in text
    assert "## Monday check-in · week of 30 Nov" in text  # the English-reading reps get English
    assert "销售漏斗周报" in text and "用时" in text
    html = (out / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh">' in html and "Noto Sans CJK SC" in html and "私信给" in html
    svg = (out / "digest.svg").read_text(encoding="utf-8")
    assert "Noto Sans CJK SC" in svg and "销售漏斗周报" in svg
    minidom.parseString(svg)  # still well-formed


def test_the_shell_signs_off_adjusts_answers_the_review_and_agrees_an_action_plan(org_db, tmp_path):
    """Each step of the weekly roll-up, typed in `coach shell` as in Slack: the first-line manager's action plan,
    the region head's forecast review, one-click sign-off and adjusted sign-off, and the top's global report."""
    rates = tmp_path / "rates.csv"
    rates.write_text("date,from,to,rate\n2026-01-01,EUR,USD,1.08\n2026-01-01,GBP,USD,1.27\n")
    assert org_db.invoke(main, ["rates", "import", str(rates)]).exit_code == 0
    # Last week Ada signed off far more than her region then won: this week's digest asks why.
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'shell.db'}")
    with so.Session(engine) as s, s.begin():
        ada = s.scalar(sa.select(Person).where(Person.email == "ada.lovelace@example.com"))
        save_comment(s, ada, date(2026, 11, 23), text="", commit=Decimal(5_000_000), best_case=None, currency="USD",
                     now=datetime(2026, 11, 26, 9, tzinfo=UTC), signed_off=True)
    engine.dispose()
    script = "\n".join([
        "/pipeline review", ":click 1", "Call the CFO with our director", "Tommy", "2026-12-04",
        ":as ada.lovelace@example.com", "/pipeline digest", ":click 1",
        "We committed deals procurement had not approved", "Who signs above the owner", "No", "Commit signed quotes only",
        "/pipeline digest", ":click 1",  # answered, the review's button is gone: sign off is the first
        "/pipeline digest", ":click 2", "One renewal slips to January", "400000", "600000", "",
        ":as grace.hopper@example.com", "/pipeline digest", ":quit", ""])
    r = org_db.invoke(main, ["shell", "--as", "tim.bernerslee@example.com", "--at", "2026-11-30T15:00Z"], input=script)
    assert r.exit_code == 0, r.output
    out = r.output
    assert ":dart: Action plan for *D-" in out  # the Monday team meeting's action plan
    assert "*Your region's forecast, to sign off*: commit USD " in out
    assert "[1: Answer the review]" in out and "[2: Sign off]" in out and "[3: Adjust & sign off]" in out
    assert "*Forecast against actual, week of 23 Nov*: you forecast USD 5,000,000" in out
    assert "┌─ form: Forecast review" in out and "Your forecast review is saved" in out
    assert ":white_check_mark: Signed off for the week of 30 Nov: commit USD " in out
    assert "┌─ form: Adjust the forecast" in out
    assert ("Signed off for the week of 30 Nov, adjusted: commit USD 400,000, best case USD 600,000. "
            "It goes up in your manager's global report, with your comment: “One renewal slips to January”") in out
    top = out.split("You are now Grace Hopper.", 1)[1]
    assert "• *Ada Lovelace*: :white_check_mark: signed off: commit USD 400,000, best case USD 600,000" in top
    assert "week of 23 Nov: forecast USD 5,000,000, won USD " in top
    assert "*Forecast reviews from your managers*" in top and "Wrong: We committed deals procurement had not" in top
