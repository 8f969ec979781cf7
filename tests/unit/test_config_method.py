import pytest

from bot.config import ConfigError, load_settings


def test_quiet_weeks_default_and_override():
    assert load_settings({}).cadence.quiet_weeks == 2
    assert load_settings({"COACH_QUIET_WEEKS": "3"}).cadence.quiet_weeks == 3
    with pytest.raises(ConfigError, match="quiet_weeks must be at least 1"):
        load_settings({"COACH_QUIET_WEEKS": "0"})


def test_signoff_tier_and_reporting_currency_settings():
    s = load_settings({})
    assert (s.cadence.signoff_tier, s.reporting_currency) == (3, "USD")
    s = load_settings({"COACH_SIGNOFF_TIER": "2", "COACH_REPORTING_CURRENCY": "eur"})
    assert (s.cadence.signoff_tier, s.reporting_currency) == (2, "EUR")
    with pytest.raises(ConfigError, match="COACH_REPORTING_CURRENCY 'EUROS' is not a currency code"):
        load_settings({"COACH_REPORTING_CURRENCY": "euros"})
