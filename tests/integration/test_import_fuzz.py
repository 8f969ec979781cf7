"""Every import, fuzzed: a file either imports whole or writes nothing, and a refusal is an
ImportRefused naming lines, never another exception.

Hypothesis mutates valid files (the examples, a HubSpot export) cell by cell: values from other
columns, junk, formulas, huge fields, quotes left open, other delimiters, lines dropped or doubled.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.db.models import Base
from bot.imports.crm import import_crm
from bot.imports.csvfile import ImportRefused
from bot.imports.deals_csv import import_deals
from bot.imports.mapping import load_preset
from bot.imports.org_csv import import_org
from bot.imports.rates_csv import import_rates
from bot.imports.targets_csv import import_targets
from bot.playbooks.loader import load_playbook

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PB = load_playbook("default")
EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"
CRM = Path(__file__).parents[1] / "fixtures" / "crm"
FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

JUNK = st.one_of(
    st.sampled_from(["", " ", "=HYPERLINK(\"x\")", "\t=1+1", "-1", "1e400", "NaN", "2026-13-45", "ZZZ", "\"", "a\"b",
                     "nobody@example.com", "lost", "won", "D-1", "x" * 200_000, "\x00", ";", "\r", "\u202e"]),
    st.text(max_size=20),
)


@st.composite
def mutated(draw, text: str) -> str:
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cell", "cell", "cell", "drop", "double", "delimiter", "truncate"]))
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "cell":
            cells = lines[i].split(",")
            j = draw(st.integers(0, len(cells) - 1))
            cells[j] = draw(JUNK)
            lines[i] = ",".join(cells)
        elif kind == "drop" and len(lines) > 1:
            del lines[i]
        elif kind == "double":
            lines.insert(i, lines[i])
        elif kind == "delimiter":
            lines[i] = lines[i].replace(",", ";")
        elif kind == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines) + "\n"


def _state(session) -> dict[str, int]:
    session.flush()
    return {t.name: session.scalar(sa.select(sa.func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def _whole_or_nothing(session, run, path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    before = _state(session)
    nested = session.begin_nested()
    try:
        run(path)
    except ImportRefused as e:
        assert e.report().splitlines()[0].endswith("nothing was imported")
        nested.rollback()  # what the CLI's transaction does with a refused file
        assert _state(session) == before
        return "refused"
    nested.commit()
    return "imported"


IMPORTS = {
    "org": (EXAMPLES / "org.csv", lambda s, p: import_org(s, p, now=NOW)),
    "deals": (EXAMPLES / "deals.csv", lambda s, p: import_deals(s, p, PB, now=NOW)),
    "rates": (EXAMPLES / "rates.csv", lambda s, p: import_rates(s, p, now=NOW)),
    "hubspot": (CRM / "hubspot_deals.csv", lambda s, p: import_crm(s, p, load_preset("hubspot"), PB, now=NOW)),
}


@pytest.mark.parametrize("name", IMPORTS)
def test_an_import_is_whole_or_nothing(name, session, tmp_path):
    source, run = IMPORTS[name]
    org = CRM / "org.csv" if name == "hubspot" else EXAMPLES / "org.csv"
    import_org(session, org, now=NOW)
    text = source.read_text(encoding="utf-8")
    outcomes: list[str] = []

    @FUZZ
    @given(mutated(text))
    def check(mutant: str) -> None:
        outcomes.append(_whole_or_nothing(session, lambda p: run(session, p), tmp_path / f"{name}.csv", mutant))

    check()
    assert "refused" in outcomes  # the mutations did reach the checks


def test_a_targets_file_is_whole_or_nothing(session, tmp_path):
    import_org(session, EXAMPLES / "org.csv", now=NOW)
    valid = "email,period,amount,currency\ntommy.flowers@example.com,2026-Q4,100000,GBP\n" \
            "tim.bernerslee@example.com,2026,400000,GBP\n"
    outcomes: list[str] = []

    @FUZZ
    @given(mutated(valid))
    def check(mutant: str) -> None:
        outcomes.append(_whole_or_nothing(session, lambda p: import_targets(session, p, now=NOW),
                                          tmp_path / "t.csv", mutant))

    check()
    assert "refused" in outcomes
