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
