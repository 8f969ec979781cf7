"""Property-based fuzzing of what people (and forgers) send to the real HTTP endpoint.

Slash-command text, button values and form submissions are drawn by hypothesis, signed and
posted to ``/slack/events`` of the running app (the fake Slack behind it). For every example:
Slack is answered under 3 s and never with a 5xx; nothing the app says is the apology for an
internal error; nothing is logged with a traceback. A change is made by one unit of work, so
an error rolls all of it back: "no internal error" is also "no half-written change", and a
refused example leaves the database as it was (checked for the examples that only read or
that the app refuses).

``FUZZ_EXAMPLES`` sets the examples per property (default 150, which .ci/run uses: about 15 s a backend).
"""

from __future__ import annotations

import json
import logging
import os

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.db.engine import transaction
from bot.db.models import Base
from bot.render.ids import Action, Block, View
from bot.slack.request_guard import payload_problem

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
INTERNAL = "went wrong"
PEOPLE = ["tommy.flowers@example.com", "tim.bernerslee@example.com", "ada.lovelace@example.com",
          "lise.meitner@example.com", "grace.hopper@example.com", "stranger@example.com"]

WORDS = st.one_of(
    st.sampled_from(["D-3", "D-1", "D-99999", "d-3", "target", "prospect", "interested", "negotiation", "won",
                     "lost", "until", "2026-12-24", "2026-13-45", "9999-12-31", "0", "-1", "1e400", "NaN",
                     "12,000", "EUR", "ZZZ", "default", "2026-Q4", "2026-13", "by", "score", "<@U0000001>",
                     "<@UNOBODY>", "<@U0000002|tim>", "*", "%", "_", "\\", "'", '"', "`", "<", ">", "&"]),
    st.text(min_size=1, max_size=12),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=3).map(lambda s: s * 400),
)
DEAL_VERBS = ["", "help", "new", "list", "show", "update", "edit", "qualify", "advance", "won", "lost", "away",
              "back", "language", "bant", "roles", "nonsense"]
PIPELINE_VERBS = ["", "digest", "review", "currency", "plan", "target", "nonsense"]


def _command(draw_verb, words):
    return " ".join([draw_verb, *words]).strip()


COMMANDS = st.one_of(
    st.tuples(st.just("/deal"), st.sampled_from(DEAL_VERBS), st.lists(WORDS, max_size=4)),
    st.tuples(st.just("/pipeline"), st.sampled_from(PIPELINE_VERBS), st.lists(WORDS, max_size=4)),
).map(lambda t: (t[0], _command(t[1], t[2])))

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | st.text(max_size=20)
    | st.sampled_from(["D-3", "2026-11-23", "negotiation", "list", "score"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
BUTTON_VALUES = st.one_of(
    st.dictionaries(st.sampled_from(["ref", "to", "owner", "page", "week", "cmd", "sort", "period", "kind"]),
                    JSONISH, max_size=5).map(json.dumps),
    st.text(max_size=30),
)
FIELDS = [b.value for b in Block if not b.value.endswith("__")]
FIELD_VALUES = st.one_of(
    st.builds(lambda v: {"type": "plain_text_input", "value": v}, st.one_of(st.none(), WORDS, JSONISH)),
    st.builds(lambda v: {"type": "datepicker", "selected_date": v},
              st.one_of(st.none(), st.sampled_from(["2026-12-24", "2026-13-45", "tomorrow", ""]), JSONISH)),
    st.builds(lambda v: {"type": "static_select", "selected_option": v},
              st.one_of(st.none(), st.builds(lambda x: {"value": x}, JSONISH), JSONISH)),
    st.builds(lambda v: {"type": "checkboxes", "selected_options": v}, JSONISH),
    JSONISH,
)
STATES = st.dictionaries(st.sampled_from([*FIELDS, "bant__budget", "role__economic_buyer", "plan_done__1",
                                                   "review__misled", "target__1", "characteristics__prospect"]),
                         st.dictionaries(st.sampled_from(["field", "x"]), FIELD_VALUES, max_size=2), max_size=5)
METADATA = st.one_of(
    st.dictionaries(st.sampled_from(["ref", "to", "kind", "week", "name", "account", "amount", "currency",
                                     "close_date", "stage", "next_step", "channel", "walk", "period"]),
                    JSONISH, max_size=6).map(json.dumps),
    st.text(max_size=30),
)


def _snapshot(coach) -> dict[str, int]:
    with transaction(coach.deps.sessions) as s:
        return {t.name: s.scalar(sa.select(sa.func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def _settle(coach, n: int) -> list:
    """The calls the app made after call ``n``, once the work the request started is done."""
    coach.wait_idle(10)
    return coach.fake.calls[n:]


def _said(calls) -> str:
    return json.dumps([c.params for c in calls], ensure_ascii=False, default=str)


def _check(coach, caplog, answer, calls, what) -> None:
    assert answer.status < 500, (what, answer)
    assert answer.elapsed < 3.0, (what, answer.elapsed)
    assert INTERNAL not in _said(calls), (what, _said(calls)[:500])
    bad = [r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not bad, (what, bad)


def test_fuzzed_slash_commands(coach, caplog):
    caplog.set_level(logging.INFO)
    ids = [coach.uid(p) for p in PEOPLE]

    @FUZZ
    @given(COMMANDS, st.sampled_from(ids))
    def run(command, user):
        name, text = command
        n = len(coach.fake.calls)
        answer, url = coach.slack.command(name, text, user=user)
        calls = _settle(coach, n)
        _check(coach, caplog, answer, calls, command)
        answered.append(any(c.params.get("response_url") == url or c.method == "views.open" for c in calls))

    answered: list[bool] = []
    run()
    assert sum(answered) >= 0.9 * len(answered)  # the examples reached the listeners and were answered


def test_fuzzed_button_values(coach, caplog):
    caplog.set_level(logging.INFO)
    ids = [coach.uid(p) for p in PEOPLE]

    @FUZZ
    @given(st.sampled_from([a.value for a in Action] + [f"{Action.PAGE}_next", f"{Action.CHECKIN_PAGE}_2"]),
           BUTTON_VALUES, st.sampled_from(ids))
    def run(action, value, user):
        n = len(coach.fake.calls)
        answer, _url = coach.slack.click(action, value, user=user)
        calls = _settle(coach, n)
        _check(coach, caplog, answer, calls, (action, value))
        answered.append(bool(calls))

    answered: list[bool] = []
    run()
    assert sum(answered) >= 0.5 * len(answered)  # most clicks reach a listener that answers


def test_fuzzed_form_submissions_change_nothing_they_refuse(coach, caplog):
    caplog.set_level(logging.INFO)
    ids = [coach.uid(p) for p in PEOPLE]

    @FUZZ
    @given(st.sampled_from([v.value for v in View]), STATES, METADATA, st.sampled_from(ids),
           st.sampled_from(["modal", None]))
    def run(callback_id, values, metadata, user, view_type):
        before = _snapshot(coach)
        view = {"id": "V0", "callback_id": callback_id, "private_metadata": metadata,
                "state": {"values": values}, "blocks": []}
        if view_type:  # Slack's views always say what they are; Bolt read a missing type as a KeyError
            view["type"] = view_type
        payload = {"type": "view_submission", "team": {"id": "T0TEAM"}, "user": {"id": user},
                   "api_app_id": "A0APP", "trigger_id": "1.trigger", "view": view}
        n = len(coach.fake.calls)
        answer = coach.slack.interactive(payload)
        calls = _settle(coach, n)
        if payload_problem(payload) is not None:
            assert answer.status == 400, (payload, answer)
        _check(coach, caplog, answer, calls, (callback_id, values, metadata))
        body = answer.json() if answer.body else {}
        refused = answer.status >= 400 or (isinstance(body, dict) and body.get("response_action") == "errors")
        if refused:
            assert _snapshot(coach) == before, (callback_id, values, metadata)
        outcomes.append(answer.status)

    outcomes: list[int] = []
    run()
    assert outcomes.count(200) >= 0.3 * len(outcomes)  # not all stopped at the door: listeners were reached
