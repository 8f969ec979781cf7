"""The weekly tier cadence, replayed with a set clock for a five-level org across timezones:
every manager gets exactly one digest, on their tier's day at their local 09:00, with exactly
their subtree, the week's changes, and the comments of the tier below — through restarts,
a second instance, a killed process, 429s and 5xx from Slack."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.app import create_app, web_client
from bot.clock import FixedClock
from bot.config import load_settings
from bot.db import repo
from bot.db.engine import transaction
from bot.db.migrate import upgrade
from bot.db.models import Deal, Person, ScheduledSend
from bot.deps import build_deps
from bot.render.ids import Action, Block
from bot.server import ServerThread, make_server
from bot.services.deals import NewDeal, create_deal, move_deal
from schedules import ledger
from schedules.runner import tick
from tests.slack.conftest import TOKEN
from tests.slack.harness import SECRET, SlackSender, all_text, select, text_input, wait_call

ROOT = Path(__file__).parents[2]
BEFORE = datetime(2026, 11, 20, 12, tzinfo=UTC)  # the Friday before the replayed week
WEEK = date(2026, 11, 23)
# (key, name, manager key, timezone); tiers follow from the tree: reps 0 ... top 4.
ORG = [
    ("top", "Tara Top", None, "America/New_York"),
    ("emea", "Emil Emea", "top", "Europe/London"),
    ("amer", "Amy Amer", "top", "America/Chicago"),
    ("emea_slm", "Sol Paris", "emea", "Europe/Paris"),
    ("amer_slm", "Sam Angeles", "amer", "America/Los_Angeles"),
    ("berlin", "Bea Berlin", "emea_slm", "Europe/Berlin"),
    ("madrid", "Mat Madrid", "emea_slm", "Europe/Madrid"),
    ("denver", "Dee Denver", "amer_slm", "America/Denver"),
    ("rep_b1", "Rob Bonn", "berlin", "Europe/Berlin"),
    ("rep_b2", "Rita Hamburg", "berlin", "Asia/Dubai"),
    ("rep_m1", "Raul Sevilla", "madrid", "Europe/Madrid"),
    ("rep_m2", "Rosa Lisboa", "madrid", "Europe/Lisbon"),
    ("rep_d1", "Ray Boulder", "denver", "America/Denver"),
    ("rep_d2", "Ria Tokyo", "denver", "Asia/Tokyo"),
]
DEALS_PER_REP = 3
TIER_DAY = {1: 1, 2: 2, 3: 3, 4: 4}  # tier -> weekday (Tuesday .. Friday)


def email(key: str) -> str:
    return f"{key}@acme.test"


def uid(key: str) -> str:
    return "U" + key.upper().replace("_", "")


class Org:
    def __init__(self, deps, fake, slack):
        self.deps, self.fake, self.slack = deps, fake, slack
        self.client = web_client(deps.settings)

    def tick(self, at: datetime, instance: str = "a"):
        self.deps.clock.set(at)
        return tick(self.deps, self.client, now=at, instance=instance)

    def replay(self, start: datetime, end: datetime, *, instances: tuple[str, ...] = ("a",),
               every: timedelta = timedelta(minutes=30)) -> None:
        at = start
        while at <= end:
            for inst in instances:
                self.tick(at, inst)
            at += every

    def digests(self, key: str) -> list:
        return [c for c in self.fake.messages(uid(key)) if "Pipeline digest" in all_text(c.params.get("blocks"))]

    def digest_text(self, key: str) -> str:
        (msg,) = self.digests(key)
        return all_text(msg.params["blocks"])

    def sent_at(self, key: str, step: str = "digest") -> datetime:
        with transaction(self.deps.sessions) as s:
            return s.scalar(sa.select(ScheduledSend.sent_at).join(Person).where(Person.email == email(key),
                                                                                 ScheduledSend.step == step))

    def comment(self, key: str, text: str, commit: str = "", best: str = "") -> None:
        """The manager clicks the button on their digest and fills in the modal (a region head's: adjust
        and sign off)."""
        (msg,) = self.digests(key)
        button = next(e for b in msg.params["blocks"] if b["type"] == "actions" for e in b["elements"]
                      if e["action_id"] in (Action.DIGEST_COMMENT, Action.DIGEST_ADJUST))
        opened = len(self.fake.calls_to("views.open"))
        answer, _ = self.slack.click(button["action_id"], button["value"], user=uid(key), channel="D" + uid(key))
        assert answer.status == 200
        self.fake.wait_for(lambda c: c.method == "views.open" and len(self.fake.calls_to("views.open")) > opened)
        view = self.fake.calls_to("views.open")[-1].params["view"]
        done = self.slack.submit(view, {Block.COMMENT: text_input(text), Block.COMMIT: text_input(commit),
                                        Block.BEST_CASE: text_input(best), Block.CURRENCY: select("EUR")},
                                 user=uid(key))
        assert done.status == 200 and not (done.body and json.loads(done.body).get("errors"))


def subtree(key: str) -> set[str]:
    keys = {key}
    changed = True
    while changed:
        new = {k for k, _, m, _ in ORG if m in keys} - keys
        keys |= new
        changed = bool(new)
    return keys


def names_of(keys: set[str]) -> set[str]:
    return {n for k, n, _, _ in ORG if k in keys}


@pytest.fixture
def org(db_url, fake_slack, tmp_path):
    env = {"DATABASE_URL": db_url, "COACH_DATA_DIR": str(tmp_path), "SLACK_BOT_TOKEN": TOKEN,
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake_slack.base_url}
    deps = build_deps(load_settings(env), clock=FixedClock(BEFORE))
    upgrade(deps.engine)
    with transaction(deps.sessions) as s:
        people: dict[str, Person] = {}
        for key, name, manager, tz in ORG:
            people[key] = Person(email=email(key), name=name, timezone=tz, slack_user_id=uid(key),
                                 manager=people.get(manager) if manager else None, created_at=BEFORE,
                                 updated_at=BEFORE)
            s.add(people[key])
        repo.recompute_tiers(s)
        for key, *_ in ORG:
            if key.startswith("rep_"):
                for i in range(DEALS_PER_REP):
                    create_deal(s, NewDeal(f"{key} deal {i}", f"{key} account {i}", people[key],
                                           Decimal(10_000 * (i + 1)), "EUR", "prospect", date(2027, 3, 31),
                                           "Call"), deps.playbook, now=BEFORE)
    for key, name, _, tz in ORG:
        fake_slack.add_user(uid(key), email=email(key), name=key, real_name=name, tz=tz)
    server = ServerThread(make_server(create_app(deps), deps, host="127.0.0.1", port=0, threads=4)).start()
    yield Org(deps, fake_slack, SlackSender(f"http://127.0.0.1:{server.port}/slack/events", fake_slack))
    server.stop()
    deps.engine.dispose()


def change_berlins_week(org: Org, at: datetime) -> None:
    """After the week's snapshot: in Bea Berlin's team one deal advances, one is lost, one slips,
    one changes amount, and a new one is opened. Nothing changes anywhere else."""
    pb = org.deps.playbook
    with transaction(org.deps.sessions) as s:
        rob = s.scalar(sa.select(Person).where(Person.email == email("rep_b1")))
        d0, d1, d2 = s.scalars(sa.select(Deal).where(Deal.owner_id == rob.id).order_by(Deal.id)).all()
        move_deal(s, d0, "interested", pb, now=at, by=rob, reason="demo booked", override=True)
        move_deal(s, d1, "lost", pb, now=at, by=rob, reason="no budget")
        d2.close_date = date(2027, 6, 30)
        rita = s.scalar(sa.select(Deal).join(Person).where(Person.email == email("rep_b2")).order_by(Deal.id))
        rita.amount = Decimal(55_000)
        create_deal(s, NewDeal("rep_b2 new deal", "New account", rita.owner, Decimal(7_000), "EUR", "target",
                               date(2027, 5, 1), "Intro"), pb, now=at)


def expected_digest_time(key: str) -> datetime:
    """09:00 local on the tier's day."""
    from zoneinfo import ZoneInfo

    tz = next(t for k, _, _, t in ORG if k == key)
    with_tier = {"top": 4, "emea": 3, "amer": 3, "emea_slm": 2, "amer_slm": 2, "berlin": 1, "madrid": 1, "denver": 1}
    day = WEEK + timedelta(days=TIER_DAY[with_tier[key]])
    return datetime(day.year, day.month, day.day, 9, tzinfo=ZoneInfo(tz)).astimezone(UTC)


MANAGERS = ["top", "emea", "amer", "emea_slm", "amer_slm", "berlin", "madrid", "denver"]


def test_a_week_of_digests_up_the_tiers(org):
    # Two instances tick side by side all week (a second replica, or cron's `tick` next to `serve`).
    both = ("a", "b")
    org.replay(datetime(2026, 11, 22, 0, tzinfo=UTC), datetime(2026, 11, 23, 12, tzinfo=UTC), instances=both)
    change_berlins_week(org, datetime(2026, 11, 23, 12, 30, tzinfo=UTC))
    org.fake.fail_next("chat.postMessage", status=429, retry_after=1, times=2)
    org.fake.fail_next("chat.postMessage", status=503, times=2)
    org.replay(datetime(2026, 11, 23, 13, tzinfo=UTC), datetime(2026, 11, 24, 12, tzinfo=UTC), instances=both)
    org.comment("berlin", "Rob's renewal slipped to June; Rita's upsell is real.", commit="40000", best="60000")
    org.replay(datetime(2026, 11, 24, 12, 30, tzinfo=UTC), datetime(2026, 11, 25, 23, tzinfo=UTC), instances=both)
    org.comment("emea_slm", "EMEA first line is on track.")
    org.replay(datetime(2026, 11, 25, 23, 30, tzinfo=UTC), datetime(2026, 11, 26, 23, tzinfo=UTC), instances=both)
    org.comment("emea", "Region: holding the quarter.", commit="250000")
    org.replay(datetime(2026, 11, 26, 23, 30, tzinfo=UTC), datetime(2026, 11, 28, 12, tzinfo=UTC), instances=both)

    assert any(c.status == 429 for c in org.fake.calls_to("chat.postMessage"))
    assert any(c.status == 503 for c in org.fake.calls_to("chat.postMessage"))
    for key in MANAGERS:
        assert len(org.digests(key)) == 1, key  # exactly one, despite two instances and Slack's errors
        assert org.sent_at(key) == expected_digest_time(key), key
    for key, *_ in ORG:
        if key.startswith("rep_"):
            assert org.digests(key) == []
            assert len([c for c in org.fake.messages(uid(key))
                        if "Monday check-in" in all_text(c.params.get("blocks"))]) == 1, key

    # Each digest holds its subtree and nothing else: counts, and no name from another branch.
    everyone = names_of({k for k, *_ in ORG})
    for key in MANAGERS:
        text = org.digest_text(key)
        mine = subtree(key)
        reps = [k for k in mine if k.startswith("rep_")]
        opened = DEALS_PER_REP * len(reps) + (0 if "rep_b1" not in mine else -1) + (1 if "rep_b2" in mine else 0)
        assert f"*Open pipeline:* {opened} deals" in text, key
        for stranger in everyone - names_of(mine):
            assert stranger not in text, (key, stranger)

    # The waterfall: what changed in Berlin's team shows in every digest above it, and only there.
    for key in ("berlin", "emea_slm", "emea", "top"):
        text = org.digest_text(key)
        for kind in ("advanced 1", "lost 1", "slipped 1", "amount changed 1", "new 1"):
            assert kind in text, (key, kind)
    for key in ("madrid", "denver", "amer_slm", "amer"):
        assert "no changes" in org.digest_text(key), key

    # Comments go up one tier, the day after.
    slm = org.digest_text("emea_slm")
    assert "From your managers" in slm and "Rob's renewal slipped to June" in slm
    assert "commit EUR 40,000" in slm and "best case EUR 60,000" in slm
    assert "EMEA first line is on track." in org.digest_text("emea")
    top = org.digest_text("top")
    assert "Region: holding the quarter." in top and "commit EUR 250,000" in top
    assert "Rob's renewal" not in top  # two tiers down: carried by the managers in between, not copied
    assert "From your managers" not in org.digest_text("amer")


def _coach(org: Org, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": org.deps.settings.database_url, "SLACK_BOT_TOKEN": TOKEN,
           "SLACK_API_URL": org.fake.base_url, "COACH_DATA_DIR": str(org.deps.settings.data_dir)}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_mid_fan_out_and_restarted(org):
    """`coach tick` is killed (SIGKILL) while Tuesday's digests are going out; the next tick
    finishes the fan-out and nobody gets a digest twice or not at all."""
    tuesday = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 in Berlin and Madrid
    org.replay(datetime(2026, 11, 22, 0, tzinfo=UTC), tuesday - timedelta(hours=1))
    org.fake.slow_down("chat.postMessage", 1.0)
    proc = _coach(org, "tick", "--at", tuesday.isoformat())
    org.fake.wait_for(lambda c: c.method == "chat.postMessage" and "Pipeline digest" in all_text(c.params.get("blocks")),
                      timeout=30)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    org.fake.slow_down("chat.postMessage", 0)
    first_line = [k for k in MANAGERS if k in ("berlin", "madrid")]
    assert sum(len(org.digests(k)) for k in first_line) >= 1

    # Restarted at once: an unexpired claim is left to its holder, never doubled.
    again = _coach(org, "tick", "--at", tuesday.isoformat())
    assert again.wait(timeout=60) == 0, again.stderr.read()
    # A later tick, after the dead process's claim has lapsed, completes the fan-out.
    later = _coach(org, "tick", "--at", (tuesday + ledger.LEASE + timedelta(minutes=10)).isoformat())
    out, err = later.communicate(timeout=60)
    assert later.returncode == 0, err
    for key in first_line:
        assert len(org.digests(key)) == 1, key
    status = _coach(org, "status", "--all", "--at", (tuesday + ledger.LEASE + timedelta(minutes=10)).isoformat())
    out, err = status.communicate(timeout=60)
    assert status.returncode == 0, err
    assert "0 in flight, 0 failed" in out and "digest" in out


def test_a_digest_that_keeps_failing_is_retried_and_shown_in_status(org):
    tuesday = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    org.fake.error_next("chat.postMessage", "channel_not_found", times=1)
    report = org.tick(tuesday)
    assert len(report.failed) == 1
    status = _coach(org, "status", "--at", tuesday.isoformat())
    out, _ = status.communicate(timeout=60)
    assert "1 failed" in out and "channel_not_found" in out
    # The window ends at --at: a week later the failed send has left it.
    later = _coach(org, "status", "--at", (tuesday + timedelta(days=8)).isoformat())
    out, _ = later.communicate(timeout=60)
    assert later.returncode == 0 and "0 sent (0 late), 0 in flight, 0 failed" in out, out
    org.replay(tuesday + timedelta(minutes=15), tuesday + timedelta(hours=1), every=timedelta(minutes=15))
    assert len(org.digests("berlin")) == 1 and len(org.digests("madrid")) == 1


def test_pipeline_digest_on_demand(org):
    org.deps.clock.set(datetime(2026, 11, 24, 10, tzinfo=UTC))
    answer, url = org.slack.command("/pipeline", "digest", user=uid("emea_slm"))
    assert answer.status == 200
    reply = wait_call(org.fake, "response_url", lambda c: c.params.get("response_url") == url)
    text = all_text(reply.params["blocks"])
    assert "Pipeline digest" in text and "*Open pipeline:* 12 deals" in text
    answer, url = org.slack.command("/pipeline", "digest", user=uid("rep_b1"))
    reply = wait_call(org.fake, "response_url", lambda c: c.params.get("response_url") == url)
    assert "Only managers have a digest" in all_text(reply.params["blocks"])


def test_comment_form_checks_its_fields(org):
    org.tick(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    (msg,) = org.digests("berlin")
    button = next(e for b in msg.params["blocks"] if b["type"] == "actions" for e in b["elements"])
    org.slack.click(Action.DIGEST_COMMENT, button["value"], user=uid("berlin"), channel="DUBERLIN")
    view = wait_call(org.fake, "views.open").params["view"]
    empty = org.slack.submit(view, {Block.COMMENT: text_input(""), Block.COMMIT: text_input(""),
                                    Block.BEST_CASE: text_input(""), Block.CURRENCY: select("EUR")}, user=uid("berlin"))
    assert set(empty.json()["errors"]) == {Block.COMMENT}
    bad = org.slack.submit(view, {Block.COMMENT: text_input("ok"), Block.COMMIT: text_input("lots"),
                                  Block.BEST_CASE: text_input("10"), Block.CURRENCY: select("EUR")}, user=uid("berlin"))
    assert set(bad.json()["errors"]) == {Block.COMMIT}
    backwards = org.slack.submit(view, {Block.COMMENT: text_input(""), Block.COMMIT: text_input("100"),
                                        Block.BEST_CASE: text_input("50"), Block.CURRENCY: select("EUR")},
                                 user=uid("berlin"))
    assert set(backwards.json()["errors"]) == {Block.BEST_CASE}
    # A rep has no digest to comment on.
    org.slack.click(Action.DIGEST_COMMENT, button["value"], user=uid("rep_b1"), channel="DUREPB1")
    wait_call(org.fake, "response_url", lambda c: "Only managers have a digest" in all_text(c.params.get("blocks")))


def test_serve_runs_the_schedule_in_process(org):
    """`coach serve` starts this scheduler; its first tick runs at once, on the deps' clock."""
    from schedules.runner import start_scheduler

    org.deps.clock.set(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    scheduler = start_scheduler(org.deps, org.client)
    try:
        org.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.params.get("channel") == uid("madrid"),
                          timeout=20)
    finally:
        scheduler.shutdown(wait=True)
    assert len(org.digests("berlin")) == 1 and len(org.digests("madrid")) == 1


def test_top_tier_digest_also_goes_to_the_configured_channel(org):
    org.deps.settings = org.deps.settings.with_(digest_channel="C0PIPELINE")
    friday = expected_digest_time("top")
    org.tick(friday)
    org.tick(friday + timedelta(minutes=15), instance="b")
    (posted,) = org.fake.messages("C0PIPELINE")
    assert "Pipeline digest" in all_text(posted.params["blocks"]) and "Tara Top" in all_text(posted.params["blocks"])
    assert len(org.digests("top")) == 1
    assert org.fake.messages("C0PIPELINE") == [posted]  # not again on the next tick


def test_each_digest_is_followed_by_its_charts_uploaded_once(org):
    from bot.services import charts

    org.replay(datetime(2026, 11, 22, 0, tzinfo=UTC), datetime(2026, 11, 23, 12, tzinfo=UTC))
    change_berlins_week(org, datetime(2026, 11, 23, 12, 30, tzinfo=UTC))
    # The answer to the upload's completion is lost: the share happened, the ledger must find it, not re-share.
    org.fake.drop_next("files.completeUploadExternal")
    org.replay(datetime(2026, 11, 23, 13, tzinfo=UTC), datetime(2026, 11, 24, 12, tzinfo=UTC), instances=("a", "b"))
    org.tick(datetime(2026, 11, 24, 12, tzinfo=UTC))
    with transaction(org.deps.sessions) as s:
        bea = s.scalar(sa.select(Person).where(Person.email == email("berlin")))
        row = s.scalar(sa.select(ScheduledSend).where(ScheduledSend.recipient_id == bea.id,
                                                      ScheduledSend.step == "digest_charts"))
        assert row.status == "sent"
        # What the waterfall is drawn from: Bea's six deals (EUR 120,000) last week; Rob lost 20,000,
        # Rita's deal went from 10,000 to 55,000 and she opened a new one of 7,000.
        b = charts.week_bridge(s, [p.id for p in bea.reports], WEEK, org.deps.playbook, "EUR")
    assert (b.start, b.new, b.amount_changes, b.lost, b.won, b.end) == (
        120_000, (7_000, 1), (45_000, 1), (-20_000, 1), (0, 0), 152_000)
    assert (b.advanced, b.slipped, b.other) == (1, 1, (0, 0))
    shared = org.fake.files(uid("berlin"))
    assert sorted(f.filename for f in shared) == sorted(
        f"{kind}-{WEEK.isoformat()}-digest_charts-{row.recipient_id}.png" for kind in ("funnel", "waterfall"))
    assert all(f.data.startswith(b"\x89PNG\r\n\x1a\n") and len(f.data) > 10_000 for f in shared)
    assert len({f.ts for f in shared}) == 1  # one message with both charts, after the digest
    assert float(shared[0].ts) > float(org.digests("berlin")[0].response["ts"])
    waterfall = next(f for f in shared if f.filename.startswith("waterfall"))
    assert waterfall.alt_txt == "Open pipeline EUR 120,000 last week to 152,000 now"
    assert "in pictures" in shared[0].initial_comment
    completions = [c for c in org.fake.calls_to("files.completeUploadExternal")
                   if any(f["id"] in {x.id for x in shared} for f in c.params["files"])]
    assert len(completions) == 1  # Bea's charts shared once
    # Whichever share lost its answer (sends go out side by side) was found, not shared again:
    # every recipient's charts were completed exactly once, the dropped one included.
    everyone = org.fake.calls_to("files.completeUploadExternal")
    assert sum(c.dropped for c in everyone) == 1
    with transaction(org.deps.sessions) as s:
        sent = s.scalar(sa.select(sa.func.count()).select_from(ScheduledSend).where(
            ScheduledSend.step == "digest_charts", ScheduledSend.status == "sent"))
    assert len(everyone) == sent  # one share per recorded send: nothing shared twice
    # Each manager who got a digest by now (the first line in Europe) got their charts, once.
    for key in ("berlin", "madrid"):
        assert len({f.ts for f in org.fake.files(uid(key))}) == 1


def test_charts_are_drawn_in_their_own_step_once_the_digest_is_out(org):
    """The digest step draws no chart (drawing is slow: a thousand managers' digests would wait
    minutes); the charts step draws a manager's charts only once their digest is recorded sent,
    and again after a chart upload failed while the digest went out."""
    from schedules import digest_steps
    from schedules.outgoing import SendKey

    org.replay(datetime(2026, 11, 22, 0, tzinfo=UTC), datetime(2026, 11, 24, 7, 55, tzinfo=UTC))
    at = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Berlin and Madrid
    with transaction(org.deps.sessions) as s:
        made = digest_steps.manager_digests(org.deps, s, now=at)
        assert made and not any(m.files for m in made)
        assert {m.key.step for m in made} == {digest_steps.DIGEST}
        assert digest_steps.digest_charts(org.deps, s, now=at) == []  # no digest is out yet
        out = {m.key for m in made}
        charts = digest_steps.digest_charts(org.deps, s, now=at, done=out.__contains__)
        assert {c.key for c in charts} == {SendKey(k.week, digest_steps.DIGEST_CHARTS, k.recipient_id) for k in out}
        assert all(c.files and c.files[0].data.startswith(b"\x89PNG") for c in charts)
        # Bea's charts failed to upload, everything else went out: only hers are drawn again.
        bea = s.scalar(sa.select(Person).where(Person.email == email("berlin")))
        sent = out | {c.key for c in charts if c.key.recipient_id != bea.id}
        again = digest_steps.digest_charts(org.deps, s, now=at + timedelta(minutes=5), done=sent.__contains__)
        assert [c.key.recipient_id for c in again] == [bea.id]
