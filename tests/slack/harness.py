"""The tests' Slack driver lives in the package (the demo and the shell use it too)."""

from bot.fakeslack.driver import (  # noqa: F401 - re-exported for the tests
    SECRET,
    Answer,
    SlackSender,
    all_text,
    checks,
    date_value,
    select,
    sign,
    text_input,
    wait_call,
    wait_reply,
)


def digest(coach, who: str) -> list[dict]:
    """``who``'s digest, as ``/pipeline digest`` answers it."""
    answer, url = coach.slack.command("/pipeline", "digest", user=coach.uid(who))
    assert answer.status == 200
    return wait_reply(coach.fake, url)["blocks"]


def buttons(blocks: list[dict]) -> dict[str, dict]:
    """A message's buttons by action id."""
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}
