"""The rule for taking a Slack profile in: pure, without Slack or a database."""

from bot.domain.profiles import Known, Profile, reconcile


def test_empty_org_fields_come_from_slack():
    out = reconcile(Known("a@x.io", None, None, False), Profile("U1", "a@x.io", "Asia/Tokyo"), deactivated=False)
    assert (out.slack_user_id, out.timezone, out.timezone_from_slack, out.problem) == ("U1", "Asia/Tokyo", True, None)


def test_the_org_files_timezone_wins_and_slacks_is_followed():
    kept = reconcile(Known("a@x.io", "U1", "Europe/Paris", False), Profile("U1", "a@x.io", "Asia/Tokyo"),
                     deactivated=False)
    assert kept.timezone == "Europe/Paris"
    moved = reconcile(Known("a@x.io", "U1", "Europe/Paris", True), Profile("U1", "a@x.io", "Asia/Tokyo"),
                      deactivated=False)
    assert (moved.timezone, moved.changes(Known("a@x.io", "U1", "Europe/Paris", True), False)) == (
        "Asia/Tokyo", ["timezone Europe/Paris -> Asia/Tokyo"])


def test_nothing_is_defaulted_and_the_reason_is_given():
    missing = reconcile(Known("a@x.io", None, None, False), None, deactivated=False)
    assert (missing.timezone, missing.problem) == (None, "no Slack account has the email a@x.io")
    no_tz = reconcile(Known("a@x.io", None, None, False), Profile("U1", "a@x.io", "Mars/Base"), deactivated=False)
    assert no_tz.timezone is None and "no usable timezone (Mars/Base)" in (no_tz.problem or "")
    other = reconcile(Known("a@x.io", "U1", None, False), Profile("U2", "a@x.io", "UTC"), deactivated=False)
    assert other.slack_user_id == "U1" and "Slack's account with that email is U2" in (other.problem or "")


def test_a_deleted_account_is_deactivated_and_a_restored_one_active():
    known = Known("a@x.io", "U1", "UTC", False)
    gone = reconcile(known, Profile("U1", "a@x.io", "UTC", deleted=True), deactivated=False)
    assert gone.deactivated and gone.changes(known, False) == ["deactivated in Slack"]
    back = reconcile(known, Profile("U1", "a@x.io", "UTC"), deactivated=True)
    assert not back.deactivated and back.changes(known, True) == ["active again in Slack"]
    unknown = reconcile(known, None, deactivated=True)
    assert unknown.deactivated  # not found: the last known state is kept
