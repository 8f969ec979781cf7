"""The Monday check-in, replayed week by week with a set clock against the fake Slack."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bot.app import create_app
from bot.clock import FixedClock
from bot.config import load_settings
from bot.db.engine import transaction
from bot.db.migrate import upgrade
from bot.db.models import CheckIn, Deal, DealReview, Person
from bot.deps import build_deps
from bot.render.ids import Action, View
from bot.server import ServerThread, make_server
from bot.services.deals import NewDeal, create_deal
from schedules.checkin_steps import checkin_prompts, checkin_reminders
from schedules.ledger import run_due
from tests.slack.conftest import TOKEN
from tests.slack.harness import SECRET, SlackSender, all_text, checks, date_value, select, text_input, wait_call

STEPS = [checkin_prompts, checkin_reminders]
T = datetime(2026, 11, 20, tzinfo=UTC)  # created before the replayed weeks
# (email, name, timezone, country, deals)
TEAM = [
    ("paris@x.io", "Pia Paris", "Europe/Paris", "FR", 2),
    ("ny@x.io", "Nate York", "America/New_York", "US", 1),
    ("sydney@x.io", "Syd Ney", "Australia/Sydney", "AU", 1),  # Monday 09:00 is Sunday 22:00 UTC
    ("tokyo@x.io", "Toki Kyo", "Asia/Tokyo", "JP", 12),  # many deals: the prompt pages
    ("empty@x.io", "Em Pty", "Europe/London", "GB", 0),  # no open deals
]
BOSS = ("boss@x.io", "Bo Ss", "America/New_York", "US")


class Team:
    def __init__(self, deps, fake, slack, clock):
        self.deps, self.fake, self.slack, self.clock = deps, fake, slack, clock
        self.client = create_app(deps, verify_token=False).client

    def uid(self, email: str) -> str:
        return "U" + email.split("@")[0].upper().ljust(6, "X")

    def tick(self, at: datetime):
        self.clock.set(at)
        return run_due(self.deps, self.client, STEPS, now=at)

    def replay(self, start: datetime, end: datetime, every: timedelta = timedelta(minutes=15)) -> None:
        at = start
        while at <= end:
            self.tick(at)
            at += every

    def prompts(self, email: str) -> list:
        return [c for c in self.fake.messages(self.uid(email)) if "Monday check-in" in all_text(c.params.get("blocks"))]

    def reminders(self, email: str) -> list:
        return [c for c in self.fake.messages(self.uid(email)) if "isn't finished" in all_text(c.params.get("blocks"))]

    def checkin(self, email: str, week: date) -> CheckIn | None:
        with transaction(self.deps.sessions) as s:
            return s.scalar(sa.select(CheckIn).join(Person).where(Person.email == email, CheckIn.week == week))


@pytest.fixture
def team(db_url, fake_slack, tmp_path):
    clock = FixedClock(T)
    env = {"DATABASE_URL": db_url, "COACH_DATA_DIR": str(tmp_path), "SLACK_BOT_TOKEN": TOKEN,
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake_slack.base_url}
    deps = build_deps(load_settings(env), clock=clock)
    upgrade(deps.engine)
    with transaction(deps.sessions) as s:
        boss = Person(email=BOSS[0], name=BOSS[1], timezone=BOSS[2], country=BOSS[3], created_at=T, updated_at=T, tier=1)
        s.add(boss)
        n = 0
        for email, name, tz, country, count in TEAM:
            p = Person(email=email, name=name, timezone=tz, country=country, manager=boss, created_at=T, updated_at=T)
            s.add(p)
            for i in range(count):
                n += 1
                create_deal(s, NewDeal(f"{name} deal {i}", f"Account {n}", p, Decimal(1000 * (i + 1)), "USD",
                                       "prospect" if i % 2 == 0 else "interested", date(2027, 3, 1), "Call"),
                            deps.playbook, now=T)
    t = Team(deps, fake_slack, None, clock)
    for email, name, *_ in [*TEAM, BOSS]:
        fake_slack.add_user(t.uid(email), email=email, name=name.split()[0].lower(), real_name=name)
    app = create_app(deps)
    server = ServerThread(make_server(app, deps, host="127.0.0.1", port=0, threads=4)).start()
    t.slack = SlackSender(f"http://127.0.0.1:{server.port}/slack/events", fake_slack)
    yield t
    server.stop()
    deps.engine.dispose()


WEEK = date(2026, 11, 23)


def test_each_rep_gets_one_prompt_at_their_own_nine_oclock(team):
    team.replay(datetime(2026, 11, 22, 0, tzinfo=UTC), datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    expected = {
        "paris@x.io": datetime(2026, 11, 23, 8, tzinfo=UTC),
        "ny@x.io": datetime(2026, 11, 23, 14, tzinfo=UTC),
        "sydney@x.io": datetime(2026, 11, 22, 22, tzinfo=UTC),  # Sunday in UTC
        # Monday 23 November is Labour Thanksgiving Day in Japan: Tuesday 09:00 in Tokyo.
        "tokyo@x.io": datetime(2026, 11, 24, 0, tzinfo=UTC),
        "empty@x.io": datetime(2026, 11, 23, 9, tzinfo=UTC),
    }
    for email, at in expected.items():
        prompts = team.prompts(email)
        assert len(prompts) == 1, email
        ci = team.checkin(email, WEEK)
        assert ci is not None and ci.prompted_at == at, email
    assert team.prompts(BOSS[0]) == []  # a manager without deals is not prompted
    empty = all_text(team.prompts("empty@x.io")[0].params["blocks"])
    assert "no open deals" in empty and "Any new opportunities" in empty
    tokyo = team.prompts("tokyo@x.io")[0].params["blocks"]
    assert len(tokyo) <= 50 and "Deals 1–8 of 12" in all_text(tokyo)
    assert team.fake.rejected() == []


@pytest.mark.parametrize(
    ("email", "week", "expected_utc"),
    [
        ("ny@x.io", date(2026, 10, 26), datetime(2026, 10, 26, 13, tzinfo=UTC)),  # EDT, the week before the change
        ("ny@x.io", date(2026, 11, 2), datetime(2026, 11, 2, 14, tzinfo=UTC)),  # EST, the week clocks went back
        ("paris@x.io", date(2026, 10, 19), datetime(2026, 10, 19, 7, tzinfo=UTC)),  # CEST
        ("paris@x.io", date(2026, 10, 26), datetime(2026, 10, 26, 8, tzinfo=UTC)),  # CET, the week clocks went back
    ],
)
def test_daylight_saving_weeks(team, email, week, expected_utc):
    monday = datetime.combine(week, datetime.min.time(), tzinfo=UTC)
    team.replay(monday - timedelta(hours=12), monday + timedelta(hours=23))
    assert len(team.prompts(email)) == 1
    assert team.checkin(email, week).prompted_at == expected_utc


def test_public_holiday_moves_the_prompt_to_the_next_working_day(team):
    # Easter Monday 2027-03-29 is a public holiday in France, not in the US.
    team.replay(datetime(2027, 3, 29, 0, tzinfo=UTC), datetime(2027, 3, 30, 12, tzinfo=UTC))
    assert team.checkin("paris@x.io", date(2027, 3, 29)).prompted_at == datetime(2027, 3, 30, 7, tzinfo=UTC)
    assert team.checkin("ny@x.io", date(2027, 3, 29)).prompted_at == datetime(2027, 3, 29, 13, tzinfo=UTC)


def test_ticking_twice_and_restarting_never_sends_twice(team):
    at = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)
    team.tick(at)
    team.tick(at)
    other = Team(team.deps, team.fake, team.slack, team.clock)  # a second instance / a restart
    other.tick(at + timedelta(minutes=1))
    assert len(team.prompts("paris@x.io")) == 1


def _click(team, email, action, value):
    answer, _ = team.slack.click(action, json.dumps(value), user=team.uid(email), channel="D" + team.uid(email)[1:])
    assert answer.status == 200


def _ref(team, email, n=0) -> str:
    with transaction(team.deps.sessions) as s:
        return s.scalars(sa.select(Deal.ref).join(Person).where(Person.email == email).order_by(Deal.id)).all()[n]


def test_no_change_update_walkthrough_partial_and_complete(team):
    team.tick(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    team.clock.set(datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    first, second = _ref(team, "paris@x.io", 0), _ref(team, "paris@x.io", 1)
    _click(team, "paris@x.io", Action.CHECKIN_NO_CHANGE, {"week": WEEK.isoformat(), "ref": first})
    redraw = wait_call(team.fake, "chat.update", lambda c: "no change" in all_text(c.params.get("blocks")))
    assert redraw.params["ts"] == team.checkin("paris@x.io", WEEK).prompt_ts
    ci = team.checkin("paris@x.io", WEEK)
    assert ci.status == "partial" and ci.started_at is not None and ci.completed_at is None

    # Walk me through: only the unanswered deal is asked; the modal coaches with the stage's actions.
    _click(team, "paris@x.io", Action.CHECKIN_WALK, {"week": WEEK.isoformat()})
    view = wait_call(team.fake, "views.open").params["view"]
    assert view["callback_id"] == View.CHECKIN and json.loads(view["private_metadata"])["ref"] == second
    text = all_text(view["blocks"])
    assert "what to do now" in text and "is this now true?" in text
    ids = {b.get("block_id") for b in view["blocks"]}
    assert {"bant__budget", "bant__authority", "bant__need", "bant__timeline", "amount", "next_step"} <= ids

    # An invalid answer is shown on its field and nothing is lost or saved half-way.
    base = {"amount": text_input("lots"), "currency": select("USD"), "close_date": date_value("2020-01-01"),
            "forecast": select("pipeline"), "next_step": text_input(""), "next_step_date": date_value(None),
            "note": text_input("")}
    bad = team.slack.submit(view, base, user=team.uid("paris@x.io"))
    errors = bad.json()["errors"]
    assert set(errors) == {"amount", "close_date", "next_step"}
    assert team.checkin("paris@x.io", WEEK).status == "partial"

    good = {**base, "amount": text_input("4500"), "close_date": date_value("2027-02-15"),
            "next_step": text_input("Demo to the CFO"), "note": text_input("CFO joined the call"),
            "bant__budget": text_input("40k approved in Q1"), "bant__need": text_input("Replace spreadsheets")}
    done = team.slack.submit(view, good, user=team.uid("paris@x.io"))
    assert done.json()["response_action"] == "update"
    assert "That's all 2 deals" in all_text(done.json()["view"]["blocks"])
    ci = team.checkin("paris@x.io", WEEK)
    assert ci.status == "complete" and ci.completed_at is not None
    with transaction(team.deps.sessions) as s:
        d = s.scalar(sa.select(Deal).where(Deal.ref == second))
        assert (str(d.amount), d.next_step, d.close_date) == ("4500.00", "Demo to the CFO", date(2027, 2, 15))
        assert {b.item: b.answer for b in d.bant}["budget"] == "40k approved in Q1"
        review = s.scalar(sa.select(DealReview).where(DealReview.deal_id == d.id))
        assert (review.outcome, review.note, review.late) == ("updated", "CFO joined the call", False)


def test_answers_meeting_the_gate_offer_a_one_click_advance(team):
    team.tick(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    ref = _ref(team, "ny@x.io")  # in prospect: needs has_management_need, no_good_solution and BANT need
    _click(team, "ny@x.io", Action.CHECKIN_UPDATE, {"week": WEEK.isoformat(), "ref": ref})
    view = wait_call(team.fake, "views.open").params["view"]
    team.slack.submit(view, {
        "characteristics__now": checks("has_management_need", "no_good_solution"), "next_marker": checks("yes"),
        "bant__need": text_input("Their quoting takes a week"), "amount": text_input("1000"),
        "currency": select("USD"), "close_date": date_value("2027-03-01"), "forecast": select("pipeline"),
        "next_step": text_input("Discovery workshop"), "next_step_date": date_value(None), "note": text_input(""),
    }, user=team.uid("ny@x.io"))
    offer = wait_call(team.fake, "chat.postMessage", lambda c: "now meets everything" in all_text(c.params.get("blocks")))
    button = next(e for b in offer.params["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert button["action_id"] == Action.ADVANCE and json.loads(button["value"]) == {"ref": ref, "to": "interested"}
    _click(team, "ny@x.io", Action.ADVANCE, json.loads(button["value"]))
    wait_call(team.fake, "response_url", lambda c: "moved from Prospect to *Interested*" in all_text(c.params.get("blocks")))
    with transaction(team.deps.sessions) as s:
        assert s.scalar(sa.select(Deal.stage).where(Deal.ref == ref)) == "interested"


def test_reminders_only_to_those_who_need_them_and_never_after_the_digest(team):
    team.tick(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # Paris prompt
    # Paris answers everything before the reminder (Monday 15:00 Paris = 14:00 UTC).
    team.clock.set(datetime(2026, 11, 23, 13, 0, tzinfo=UTC))
    for n in range(2):
        _click(team, "paris@x.io", Action.CHECKIN_NO_CHANGE, {"week": WEEK.isoformat(), "ref": _ref(team, "paris@x.io", n)})
    wait_call(team.fake, "chat.update", lambda c: all_text(c.params.get("blocks")).count("no change") == 2)
    assert team.checkin("paris@x.io", WEEK).status == "complete"
    team.replay(datetime(2026, 11, 23, 13, 15, tzinfo=UTC), datetime(2026, 11, 25, 0, 0, tzinfo=UTC))
    assert team.reminders("paris@x.io") == []
    # New York: Monday 15:00 local; Tuesday 08:00 local is before the boss's Tuesday 09:00 New York digest.
    ny = team.reminders("ny@x.io")
    assert len(ny) == 2
    assert "0 of 1 deal done" in all_text(ny[0].params["blocks"])
    # Tokyo's week moved a day for the holiday: Tuesday 15:00 is sent; Wednesday 08:00 falls after the
    # boss's Tuesday digest and is skipped.
    assert len(team.reminders("tokyo@x.io")) == 1
    assert team.reminders("empty@x.io") == []


def test_away_skips_prompt_and_reminders_and_back_restores(team):
    team.clock.set(datetime(2026, 11, 20, 12, tzinfo=UTC))
    answer, _ = team.slack.command("/deal", "away until 2026-11-24", user=team.uid("ny@x.io"))
    assert answer.status == 200
    wait_call(team.fake, "response_url", lambda c: "away until Tuesday 24 November" in all_text(c.params.get("blocks")))
    team.replay(datetime(2026, 11, 23, 0, tzinfo=UTC), datetime(2026, 11, 24, 23, tzinfo=UTC))
    assert team.prompts("ny@x.io") == [] and team.reminders("ny@x.io") == []
    assert team.checkin("ny@x.io", WEEK).status == "away"
    assert len(team.prompts("paris@x.io")) == 1
    team.clock.set(datetime(2026, 11, 25, 12, tzinfo=UTC))
    team.slack.command("/deal", "back", user=team.uid("ny@x.io"))
    wait_call(team.fake, "response_url", lambda c: "Welcome back" in all_text(c.params.get("blocks")))
    with transaction(team.deps.sessions) as s:
        assert s.scalar(sa.select(Person.away_until).where(Person.email == "ny@x.io")) is None
    team.replay(datetime(2026, 11, 30, 13, tzinfo=UTC), datetime(2026, 11, 30, 15, tzinfo=UTC))
    assert len(team.prompts("ny@x.io")) == 1


def test_edits_after_the_managers_digest_are_marked_late(team):
    team.tick(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    ref = _ref(team, "paris@x.io")
    team.clock.set(datetime(2026, 11, 24, 15, tzinfo=UTC))  # boss's digest: Tuesday 09:00 New York = 14:00 UTC
    _click(team, "paris@x.io", Action.CHECKIN_NO_CHANGE, {"week": WEEK.isoformat(), "ref": ref})
    wait_call(team.fake, "chat.update")
    with transaction(team.deps.sessions) as s:
        review = s.scalar(sa.select(DealReview).join(Deal).where(Deal.ref == ref))
        assert review.late is True


def test_away_errors(team):
    team.slack.command("/deal", "away until someday", user=team.uid("ny@x.io"))
    wait_call(team.fake, "response_url", lambda c: "Usage: `/deal away until YYYY-MM-DD`" in all_text(c.params.get("blocks")))
    team.clock.set(datetime(2026, 11, 25, tzinfo=UTC))
    team.slack.command("/deal", "away until 2026-11-01", user=team.uid("ny@x.io"))
    wait_call(team.fake, "response_url", lambda c: "is in the past" in all_text(c.params.get("blocks")))


def test_prompt_page_buttons(team):
    team.tick(datetime(2026, 11, 24, 0, 0, tzinfo=UTC))
    prompt = team.prompts("tokyo@x.io")[0]
    nav = next(e for b in prompt.params["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"].startswith(Action.CHECKIN_PAGE))
    ci = team.checkin("tokyo@x.io", WEEK)
    answer, _ = team.slack.click(nav["action_id"], nav["value"], user=team.uid("tokyo@x.io"),
                                 channel=ci.prompt_channel, message_ts=ci.prompt_ts)
    assert answer.status == 200
    page2 = wait_call(team.fake, "chat.update").params
    assert page2["ts"] == ci.prompt_ts and "Deals 9–12 of 12" in all_text(page2["blocks"])


def test_the_prompt_asks_last_weeks_activity_which_is_stored_per_week_or_skipped(team):
    from bot.db.models import WeeklyActivity

    team.tick(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    prompt = team.prompts("paris@x.io")[0]
    text = all_text(prompt.params["blocks"])
    assert "*Last week* (from 16 Nov): how many visits, calls and proposals?" in text
    assert "score *" in text  # each deal shows its lead score
    _click(team, "paris@x.io", Action.ACTIVITY_REPORT, {"week": WEEK.isoformat()})
    view = wait_call(team.fake, "views.open").params["view"]
    assert view["callback_id"] == View.ACTIVITY
    bad = team.slack.submit(view, {"visits": text_input("seven"), "calls": text_input("-2"),
                                   "proposals": text_input("")}, user=team.uid("paris@x.io"))
    assert set(bad.json()["errors"]) == {"visits", "calls"}
    assert "isn't a whole number" in bad.json()["errors"]["visits"]
    ok = team.slack.submit(view, {"visits": text_input("7"), "calls": text_input("1,500"),
                                  "proposals": text_input("")}, user=team.uid("paris@x.io"))
    assert ok.status == 200
    redraw = wait_call(team.fake, "chat.update", lambda c: "7 visits" in all_text(c.params.get("blocks")))
    assert "7 visits · 1500 calls · – proposals" in all_text(redraw.params["blocks"])
    _click(team, "sydney@x.io", Action.ACTIVITY_SKIP, {"week": WEEK.isoformat()})
    wait_call(team.fake, "chat.update", lambda c: "_skipped_" in all_text(c.params.get("blocks")))
    with transaction(team.deps.sessions) as s:
        rows = {(r.person_id, r.week): (r.visits, r.calls, r.proposals, r.skipped)
                for r in s.scalars(sa.select(WeeklyActivity))}
        ids = {p.email: p.id for p in s.scalars(sa.select(Person))}
    assert rows == {(ids["paris@x.io"], date(2026, 11, 16)): (7, 1500, None, False),
                    (ids["sydney@x.io"], date(2026, 11, 16)): (None, None, None, True)}


def test_the_bot_down_over_monday_morning_sends_each_prompt_once_late_and_skips_moot_reminders(team):
    """Down from Sunday midnight to Monday 15:00 UTC: Europe's and New York's 09:00 prompts and Paris's
    Monday 15:00 reminder all fell due meanwhile. When it is back, each prompt goes out once, marked
    late; Paris's reminder, whose moment came before the prompt went out, is skipped (it would follow
    the prompt within the minute); Sydney's, due after its on-time prompt, still goes."""
    from bot.db.models import ScheduledSend

    team.replay(datetime(2026, 11, 22, 12, tzinfo=UTC), datetime(2026, 11, 22, 23, 45, tzinfo=UTC))
    assert len(team.prompts("sydney@x.io")) == 1  # Sunday 22:00 UTC, before the outage
    back = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    team.tick(back)
    for email in ("paris@x.io", "ny@x.io", "empty@x.io"):
        assert len(team.prompts(email)) == 1, email
    assert team.reminders("paris@x.io") == []
    assert len(team.reminders("sydney@x.io")) == 1
    with transaction(team.deps.sessions) as s:
        late = {(r.recipient.email, r.step): r.late for r in s.scalars(sa.select(ScheduledSend))}
    assert late[("paris@x.io", "checkin_prompt")] and late[("ny@x.io", "checkin_prompt")]
    assert late[("empty@x.io", "checkin_prompt")] and not late[("sydney@x.io", "checkin_prompt")]
    # The rest of the week runs as usual, and nothing is sent twice.
    team.replay(back + timedelta(minutes=15), datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    for email in ("paris@x.io", "ny@x.io", "empty@x.io", "sydney@x.io", "tokyo@x.io"):
        assert len(team.prompts(email)) == 1, email
    assert len(team.reminders("paris@x.io")) == 1  # Tuesday 08:00 in Paris
    assert "0 of 2 deals done" in all_text(team.reminders("paris@x.io")[0].params["blocks"])
