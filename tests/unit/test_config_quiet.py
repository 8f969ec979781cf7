import pytest

from bot.config import ConfigError, load_settings


def test_quiet_weeks_default_and_override():
    assert load_settings({}).cadence.quiet_weeks == 2
    assert load_settings({"COACH_QUIET_WEEKS": "3"}).cadence.quiet_weeks == 3
    with pytest.raises(ConfigError, match="quiet_weeks must be at least 1"):
        load_settings({"COACH_QUIET_WEEKS": "0"})
