"""A CRM's own export imported through a preset or a mapping, with its history, keyed by the CRM's id;
re-imports, --dry-run, --full/--close-missing, export back and the formula guard. SQLite and PostgreSQL.

The figures are checked against numbers computed here, independently, from the raw file."""

from __future__ import annotations

import csv
import io
import os
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from statistics import median

import pytest
import sqlalchemy as sa

from bot.db.models import Deal, Person, StageChange
from bot.domain.playbook import LOST
from bot.imports.crm import NOT_IN_EXPORT, import_crm
from bot.imports.csvfile import ImportRefused
from bot.imports.mapping import load_preset, parse_mapping
from bot.imports.org_csv import import_org
from bot.playbooks.loader import load_playbook
from bot.services.numbers import numbers_for
from tests.integration.test_cli import coach  # noqa: F401 - the `coach ARGS` fixture

PB = load_playbook("default")
FIXTURES = Path(__file__).parents[1] / "fixtures" / "crm"
EXPORT = FIXTURES / "hubspot_deals.csv"
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)  # after the fixture's last date, 2026-06-26
HUBSPOT = load_preset("hubspot")
WON_AT = 'Date entered "Closed won (Sales Pipeline)"'
LOST_AT = 'Date entered "Closed lost (Sales Pipeline)"'


def _when(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def raw_rows() -> tuple[list[str], list[dict[str, str]]]:
    with EXPORT.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, delimiter=delimiter)
        w.writeheader()
        w.writerows(rows)
    return path


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def org(session):
    import_org(session, FIXTURES / "org.csv", now=NOW - timedelta(days=400))
    return {p.email.split(".")[0]: p for p in session.scalars(sa.select(Person))}


def test_a_hubspot_export_brings_its_history_and_the_numbers_are_the_exports_own(session, org):
    plan = import_crm(session, EXPORT, HUBSPOT, PB, now=NOW)
    _, rows = raw_rows()
    assert len(plan.added) == len(rows) and plan.undated == 0
    assert plan.ignored == ["Pipeline", "Deal Type", "Last Activity Date"]

    # Independently, from the raw file: deals closed in the report's window (182 days up to NOW).
    since = NOW - timedelta(days=PB.numbers.window_days)
    won = [r for r in rows if r["Deal Stage"] == "Closed won" and since <= _when(r[WON_AT]) <= NOW]
    lost = [r for r in rows if r["Deal Stage"] == "Closed lost" and since <= _when(r[LOST_AT]) <= NOW]
    assert len(won) > 10 and len(lost) > 10  # the fixture means something
    win_rate = len(won) / (len(won) + len(lost))
    average = (sum(Decimal(r["Amount"]) for r in won) / len(won)).quantize(Decimal("0.01"))
    cycle = median((_when(r[WON_AT]) - _when(r["Create Date"])).total_seconds() / 86400 for r in won)
    june = sum(Decimal(r["Amount"]) for r in rows if r["Deal Stage"] == "Closed won"
               and _when(r[WON_AT]) >= datetime(2026, 6, 1, tzinfo=UTC))

    n = numbers_for(session, PB, org["maria"], now=NOW)
    assert (n.outcomes.won, n.outcomes.lost) == (len(won), len(lost))
    assert n.outcomes.win_rate == pytest.approx(win_rate)
    assert n.outcomes.average_deal == {"USD": average}
    assert n.outcomes.cycle_days == pytest.approx(cycle)
    assert n.achieved == june  # the period's won total counts each win in the month it closed
    assert n.period_end.isoformat() == "2026-06-30"

    # Every date in the history is the export's; none is the moment of the import.
    latest = session.scalar(sa.select(sa.func.max(StageChange.changed_at)))
    assert latest <= datetime(2026, 6, 26, 17, tzinfo=UTC)
    # A deal the export shows entering later in the funnel is not counted in the stages before it.
    late = next(r for r in rows if r['Date entered "Appointment scheduled (Sales Pipeline)"'] == ""
                and r["Deal Stage"] not in ("Closed won", "Closed lost"))
    deal = session.scalar(sa.select(Deal).where(Deal.crm_id == late["Record ID"]))
    assert deal.history[0].from_stage is None and deal.history[0].to_stage != "prospect"
    assert deal.created_at == _when(late["Create Date"])
    # A won deal closes on its own date.
    first_won = next(r for r in rows if r["Deal Stage"] == "Closed won")
    d = session.scalar(sa.select(Deal).where(Deal.crm_id == first_won["Record ID"]))
    assert (d.stage, d.stage_entered_at) == ("won", _when(first_won[WON_AT]))
    assert d.ref.startswith("D-")  # the ref stays ours


def test_coach_report_shows_the_exports_win_rate_average_and_cycle(coach, monkeypatch):  # noqa: F811
    monkeypatch.setattr("bot.clock.SystemClock.now", lambda self: NOW)
    assert coach("init").exit_code == 0
    assert coach("org", "import", str(FIXTURES / "org.csv")).exit_code == 0
    r = coach("deals", "import", str(EXPORT), "--preset", "hubspot")
    assert r.exit_code == 0, r.output
    assert "117 added" in r.output and "ignored 3 column(s)" in r.output
    assert "The schedule starts from the next due moment" in r.output  # going live after an import
    r = coach("report", "--as", "maria.garcia@acme.test", "--csv")
    assert r.exit_code == 0, r.output
    got = {(row[0], row[1]): row[2] for row in csv.reader(io.StringIO(r.output))}
    _, rows = raw_rows()
    since = NOW - timedelta(days=182)
    won = [r for r in rows if r["Deal Stage"] == "Closed won" and _when(r[WON_AT]) >= since]
    lost = [r for r in rows if r["Deal Stage"] == "Closed lost" and _when(r[LOST_AT]) >= since]
    assert got["outcomes", "won"] == str(len(won)) and got["outcomes", "lost"] == str(len(lost))
    assert got["outcomes", "win_rate"] == f"{len(won) / (len(won) + len(lost)):.2f}"
    avg = (sum(Decimal(r["Amount"]) for r in won) / len(won)).quantize(Decimal("0.01"))
    assert got["outcomes", "average_deal"] == str(avg)
    cycle = median((_when(r[WON_AT]) - _when(r["Create Date"])).total_seconds() / 86400 for r in won)
    assert got["outcomes", "cycle_days"] == f"{cycle:.1f}"


def test_a_reordered_reexport_changes_nothing(session, org, tmp_path):
    import_crm(session, EXPORT, HUBSPOT, PB, now=NOW)
    before = count(session, StageChange)
    header, rows = raw_rows()
    random.Random(5).shuffle(rows)
    again = import_crm(session, write_rows(tmp_path / "shuffled.csv", header, rows), HUBSPOT, PB,
                       now=NOW + timedelta(days=1))
    assert (len(again.added), len(again.updated), len(again.moved), again.unchanged) == (0, 0, 0, len(rows))
    assert count(session, StageChange) == before and count(session, Deal) == len(rows)


def test_a_mis_keyed_file_is_refused_unless_renames_are_accepted(session, org, tmp_path):
    import_crm(session, EXPORT, HUBSPOT, PB, now=NOW)
    header, rows = raw_rows()
    ids = [r["Record ID"] for r in rows]
    for r, other in zip(rows, ids[1:] + ids[:1], strict=True):  # every id on the wrong row
        r["Record ID"] = other
    shifted = write_rows(tmp_path / "shifted.csv", header, rows)
    stages = dict(session.execute(sa.select(Deal.crm_id, Deal.stage)).all())
    with pytest.raises(ImportRefused) as e:
        import_crm(session, shifted, HUBSPOT, PB, now=NOW)
    assert "would change both owner" in e.value.report() and "--accept-renames" in e.value.report()
    assert dict(session.execute(sa.select(Deal.crm_id, Deal.stage)).all()) == stages  # nothing written
    plan = import_crm(session, shifted, HUBSPOT, PB, now=NOW, accept_renames=True)
    assert plan.updated


def test_dry_run_lists_moves_and_closes_and_writes_nothing(session, org, tmp_path):
    dry = import_crm(session, EXPORT, HUBSPOT, PB, now=NOW, dry_run=True)
    assert len(dry.added) == 117 and count(session, Deal) == 0
    import_crm(session, EXPORT, HUBSPOT, PB, now=NOW)
    header, rows = raw_rows()
    open_row = next(r for r in rows if r["Deal Stage"] == "Decision maker bought-in")
    open_row["Deal Stage"] = "Closed won"
    open_row[WON_AT] = "2026-06-29 10:00"
    other = next(r for r in rows if r["Deal Stage"] == "Qualified to buy")
    other["Deal Stage"], other["Amount"] = "Presentation scheduled", "99999"
    later = write_rows(tmp_path / "later.csv", header, rows)
    history = count(session, StageChange)
    plan = import_crm(session, later, HUBSPOT, PB, now=NOW, dry_run=True)
    lines = "\n".join(plan.lines(PB, full=False, close_missing=False))
    assert "shortlisted → won on 2026-06-29" in lines and "interested → project" in lines
    assert "amount" in lines and "99999" in lines
    assert plan.summary(full=False, close_missing=False).startswith("0 added, 1 updated, 1 moved, 1 closed")
    assert count(session, StageChange) == history
    assert session.scalar(sa.select(Deal.stage).where(Deal.crm_id == open_row["Record ID"])) == "shortlisted"
    import_crm(session, later, HUBSPOT, PB, now=NOW)
    d = session.scalar(sa.select(Deal).where(Deal.crm_id == open_row["Record ID"]))
    assert (d.stage, d.stage_entered_at, d.history[-1].gate_overridden) == (
        "won", datetime(2026, 6, 29, 10, tzinfo=UTC), False)


def test_full_lists_open_deals_missing_from_the_file_and_close_missing_closes_them(session, org, tmp_path):
    import_crm(session, EXPORT, HUBSPOT, PB, now=NOW)
    header, rows = raw_rows()
    gone = [r for r in rows if not r["Deal Stage"].startswith("Closed")][:3]
    rest = [r for r in rows if r not in gone]
    partial = write_rows(tmp_path / "partial.csv", header, rest)
    listed = import_crm(session, partial, HUBSPOT, PB, now=NOW, full=True)
    assert sorted(d.crm_id for d in listed.missing) == sorted(r["Record ID"] for r in gone)
    assert all(d.stage != LOST for d in listed.missing)  # listed, not closed
    import_crm(session, partial, HUBSPOT, PB, now=NOW, full=True, close_missing=True)
    for r in gone:
        d = session.scalar(sa.select(Deal).where(Deal.crm_id == r["Record ID"]))
        assert (d.stage, d.lost_reason, d.history[-1].reason) == (LOST, NOT_IN_EXPORT, NOT_IN_EXPORT)


def test_export_back_round_trips_and_guards_formulas(coach, tmp_path):  # noqa: F811
    assert coach("init").exit_code == 0
    assert coach("org", "import", str(FIXTURES / "org.csv")).exit_code == 0
    assert coach("deals", "import", str(EXPORT), "--preset", "hubspot").exit_code == 0
    out = tmp_path / "back.csv"
    r = coach("deals", "export", str(out), "--preset", "hubspot")
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert "'=HYPERLINK(" in text and ",=HYPERLINK(" not in text  # shown as text by Excel and LibreOffice
    with out.open(encoding="utf-8", newline="") as f:
        back = list(csv.DictReader(f))
    _, rows = raw_rows()
    assert sorted(r["Record ID"] for r in back) == sorted(r["Record ID"] for r in rows)
    by_id = {r["Record ID"]: r for r in back}
    for r in rows:
        b = by_id[r["Record ID"]]
        assert b["Deal Stage"] == r["Deal Stage"] and b["Deal owner"] == r["Deal owner"]
        assert Decimal(b["Amount"]) == Decimal(r["Amount"])
        assert b[WON_AT] == r[WON_AT] and b["Create Date"] == r["Create Date"]
    r = coach("deals", "import", str(out), "--preset", "hubspot")
    assert r.exit_code == 0, r.output
    assert "0 added, 0 updated, 0 moved, 0 closed, 117 unchanged" in r.output
    plain = tmp_path / "plain.csv"
    assert coach("deals", "export", str(plain)).exit_code == 0
    assert "'=HYPERLINK(" in plain.read_text(encoding="utf-8")


def test_semicolons_are_detected_and_dates_and_owners_follow_the_mapping(session, org, tmp_path):
    sf = load_preset("salesforce")
    text = ("Opportunity Owner;Account Name;Opportunity Name;Stage;Amount;Close Date;Created Date;Opportunity ID;"
            "Fiscal Period\n"
            "Sam Lee;Contoso;Contoso pilot;Closed Won;12,000.00;10/20/2025;08/24/2025;0061x00000A1;Q4-2025\n"
            "priya nair;Fabrikam;Fabrikam site;Negotiation/Review;8000;07/15/2026;03/02/2026;0061x00000A2;Q3-2026\n")
    path = tmp_path / "sf.csv"
    path.write_text(text, encoding="utf-8")
    plan = import_crm(session, path, sf, PB, now=NOW)
    assert "this file uses ';' between fields; read as such" in plan.notes()
    assert plan.ignored == ["Fiscal Period"] and "Opportunity Currency" in plan.absent
    won = session.scalar(sa.select(Deal).where(Deal.crm_id == "0061x00000A1"))
    assert (won.stage, won.amount, won.owner.email) == ("won", Decimal("12000.00"), "sam.lee@acme.test")
    assert won.stage_entered_at == datetime(2025, 10, 20, tzinfo=UTC)  # closes on its Close Date
    assert won.created_at == datetime(2025, 8, 24, tzinfo=UTC)


def test_a_name_two_people_share_is_an_error_naming_both(session, org, tmp_path):
    session.add(Person(email="sam.lee2@acme.test", name="Sam  Lee", created_at=NOW, updated_at=NOW))
    session.flush()
    with pytest.raises(ImportRefused) as e:
        import_crm(session, EXPORT, HUBSPOT, PB, now=NOW)
    assert "matches 2 people: sam.lee2@acme.test, sam.lee@acme.test" in e.value.report()
    assert count(session, Deal) == 0  # a failed import writes nothing


def test_pipedrive_status_keeps_the_stage_a_deal_was_lost_at(session, org, tmp_path):
    pd = load_preset("pipedrive")
    header = ["Deal - ID", "Deal - Title", "Deal - Organization", "Deal - Owner", "Deal - Value",
              "Deal - Currency of value", "Deal - Stage", "Deal - Status", "Deal - Deal created",
              "Deal - Expected close date", "Deal - Won time", "Deal - Lost time", "Deal - Lost reason"]
    rows = [
        ["41", "Lost one", "Litware", "Tom Berg", "5000", "EUR", "Proposal Made", "Lost", "2026-01-05 09:00:00",
         "2026-03-01", "", "2026-02-20 16:30:00", "Price"],
        ["42", "Won one", "Adatum", "Lena Vogel", "7000", "EUR", "Negotiations Started", "Won",
         "2026-02-01 09:00:00", "2026-04-01", "2026-03-28 11:00:00", "", ""],
        ["43", "Open one", "Adatum", "Lena Vogel", "1000", "EUR", "Contact Made", "Open", "2026-05-01 09:00:00",
         "2026-08-01", "", "", ""],
    ]
    path = tmp_path / "pd.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    import_crm(session, path, pd, PB, now=NOW)
    lost = session.scalar(sa.select(Deal).where(Deal.crm_id == "41"))
    assert [(h.from_stage, h.to_stage) for h in lost.history] == [(None, "shortlisted"), ("shortlisted", LOST)]
    assert lost.lost_reason == "Price" and lost.history[-1].changed_at == datetime(2026, 2, 20, 16, 30, tzinfo=UTC)
    won = session.scalar(sa.select(Deal).where(Deal.crm_id == "42"))
    assert (won.stage, won.currency, won.stage_entered_at) == ("won", "EUR", datetime(2026, 3, 28, 11, tzinfo=UTC))


def test_bad_files_get_clear_messages(session, org, tmp_path):
    header, rows = raw_rows()
    rows[0]["Deal Stage"] = "Verbal yes"
    rows[1]["Create Date"] = "yesterday"
    rows[2]["Record ID"] = ""
    rows[3]["Deal owner"] = "Nobody Here"
    with pytest.raises(ImportRefused) as e:
        import_crm(session, write_rows(tmp_path / "bad.csv", header, rows), HUBSPOT, PB, now=NOW)
    report = e.value.report()
    assert ":2: stage 'Verbal yes' is not in the mapping's [stages]" in report
    assert ":3: Create Date 'yesterday' is not a date in the format" in report
    assert ":4: Record ID is empty" in report
    assert ":5: unknown owner 'Nobody Here'" in report
    assert count(session, Deal) == 0
    with pytest.raises(ImportRefused) as e:
        import_crm(session, FIXTURES / "org.csv", HUBSPOT, PB, now=NOW)
    assert "the file has no column 'Record ID' (crm_id)" in e.value.report()


def test_a_mapping_file_with_mistakes_says_what_to_fix():
    from bot.imports.mapping import MappingError

    with pytest.raises(MappingError, match="must name the export's column for crm_id"):
        parse_mapping('[columns]\nname = "Name"\nowner = "Owner"\nstage = "Stage"\n[stages]\nA = "prospect"\n', "m")
    bad = parse_mapping('[columns]\ncrm_id = "Id"\nname = "N"\nowner = "O"\nstage = "S"\n[stages]\nA = "prospekt"\n',
                        "m.toml")
    with pytest.raises(MappingError, match="stage prospekt is not in the playbook"):
        bad.check(PB)


def test_a_separate_stage_history_file_gives_each_deal_its_path(coach, tmp_path):  # noqa: F811
    assert coach("init").exit_code == 0
    assert coach("org", "import", str(FIXTURES / "org.csv")).exit_code == 0
    export = tmp_path / "opps.csv"
    export.write_text("Opportunity ID,Opportunity Name,Account Name,Opportunity Owner,Amount,Stage,Close Date,"
                      "Created Date\n"
                      "006A,Northwind rollout,Northwind,Sam Lee,9000,Closed Won,04/10/2026,01/05/2026\n"
                      "006B,Contoso pilot,Contoso,Tom Berg,3000,Closed Lost,03/01/2026,01/20/2026\n", encoding="utf-8")
    history = tmp_path / "history.csv"
    history.write_text("id,from,to,at,who\n"
                       "006A,Prospecting,Needs Analysis,01/19/2026,Sam Lee\n"
                       "006A,Needs Analysis,Negotiation/Review,03/02/2026,Sam Lee\n"
                       "006A,Negotiation/Review,Closed Won,04/10/2026,Sam Lee\n"
                       "006B,Qualification,Closed Lost,03/01/2026,Tom Berg\n"
                       "006Z,Prospecting,Qualification,03/01/2026,Nobody\n", encoding="utf-8")
    r = coach("deals", "import", str(export), "--preset", "salesforce", "--history", str(history))
    assert r.exit_code == 0, r.output
    assert "5 stage change(s) read from the history file; 1 for ids not in the export, left out" in r.output
    from bot.db.engine import make_engine

    eng = make_engine(os.environ["DATABASE_URL"])
    with eng.connect() as c:
        rows = c.execute(sa.select(Deal.crm_id, StageChange.from_stage, StageChange.to_stage, StageChange.changed_at)
                         .join(Deal, Deal.id == StageChange.deal_id).order_by(Deal.crm_id, StageChange.changed_at,
                                                                              StageChange.id)).all()
    eng.dispose()
    assert [(i, f, t, at.date().isoformat()) for i, f, t, at in rows] == [
        ("006A", None, "prospect", "2026-01-05"), ("006A", "prospect", "interested", "2026-01-19"),
        ("006A", "interested", "negotiation", "2026-03-02"), ("006A", "negotiation", "won", "2026-04-10"),
        ("006B", None, "interested", "2026-01-20"), ("006B", "interested", "lost", "2026-03-01")]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,from,to,at\n006A,Prospecting,Somewhere,someday\n", encoding="utf-8")
    r = coach("deals", "import", str(export), "--preset", "salesforce", "--history", str(bad))
    assert r.exit_code == 1 and "stage 'Somewhere' is not in the mapping's [stages]" in r.output
    assert "'someday' is not a date" in r.output and "Traceback" not in r.output


def test_an_export_the_csv_module_cannot_read_is_refused_whole(session, org, tmp_path):
    header, rows = raw_rows()
    path = tmp_path / "broken.csv"
    text = EXPORT.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*text[:5], text[5] + ',"' + "x" * 200_000, *text[6:]]) + "\n", encoding="utf-8")
    with pytest.raises(ImportRefused) as e:
        import_crm(session, path, HUBSPOT, PB, now=NOW)
    assert "broken.csv:6: cannot be read as CSV from here: a field is longer than" in e.value.report()
    assert count(session, Deal) == 0 and len(rows) > 5 and header
