"""Org and deal CSV imports against SQLite and PostgreSQL."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db.models import Deal, Person, StageChange
from bot.imports.csvfile import ImportRefused
from bot.imports.deals_csv import export_deals, import_deals
from bot.imports.org_csv import import_org
from bot.playbooks.loader import load_playbook

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PB = load_playbook("default")
EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"
ORG_HEADER = "email,name,manager_email,slack_user_id,timezone,country\n"
DEALS_HEADER = "ref,name,account,owner_email,amount,currency,stage,close_date,next_step\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_example_org_imports_with_tiers(session):
    result = import_org(session, EXAMPLES / "org.csv", now=NOW)
    assert (result.created, result.updated) == (46, 0)
    tiers = dict(session.execute(sa.select(Person.email, Person.tier)).all())
    assert tiers["grace.hopper@example.com"] == 4
    assert tiers["ada.lovelace@example.com"] == 3
    assert tiers["alan.turing@example.com"] == 2
    assert tiers["tim.bernerslee@example.com"] == 1
    assert tiers["rosalind.franklin@example.com"] == 0
    ada = session.scalar(sa.select(Person).where(Person.email == "ada.lovelace@example.com"))
    assert ada.manager.email == "grace.hopper@example.com"
    assert [r.email for r in ada.reports] == ["alan.turing@example.com", "emmy.noether@example.com"]


def test_reimport_updates_in_place_and_keeps_known_values(session, tmp_path):
    first = write(tmp_path, "a.csv", ORG_HEADER + "boss@x.io,Boss,,U0BOSS,Europe/Paris,FR\nrep@x.io,Rep,boss@x.io,,,\n")
    import_org(session, first, now=NOW)
    again = write(tmp_path, "b.csv", ORG_HEADER + "boss@x.io,The Boss,,,,\nrep@x.io,Rep Two,boss@x.io,U0REP,Asia/Tokyo,jp\n")
    result = import_org(session, again, now=NOW)
    assert (result.created, result.updated) == (0, 2)
    boss, rep = (session.scalar(sa.select(Person).where(Person.email == e)) for e in ("boss@x.io", "rep@x.io"))
    assert (boss.name, boss.slack_user_id, boss.timezone, boss.country) == ("The Boss", "U0BOSS", "Europe/Paris", "FR")
    assert (rep.name, rep.slack_user_id, rep.timezone, rep.country) == ("Rep Two", "U0REP", "Asia/Tokyo", "JP")
    assert (boss.tier, rep.tier) == (1, 0)


def test_slack_id_can_move_between_people_in_one_file(session, tmp_path):
    import_org(session, write(tmp_path, "a.csv", ORG_HEADER + "a@x.io,A,,U0AAA,,\nb@x.io,B,a@x.io,U0BBB,,\n"), now=NOW)
    import_org(session, write(tmp_path, "b.csv", ORG_HEADER + "a@x.io,A,,U0BBB,,\nb@x.io,B,a@x.io,U0CCC,,\n"), now=NOW)
    ids = dict(session.execute(sa.select(Person.email, Person.slack_user_id)).all())
    assert ids == {"a@x.io": "U0BBB", "b@x.io": "U0CCC"}


def test_bad_org_lists_every_problem_by_line_and_writes_nothing(session, tmp_path):
    import_org(session, write(tmp_path, "ok.csv", ORG_HEADER + "keep@x.io,Keep,,,,\n"), now=NOW)
    bad = write(
        tmp_path,
        "bad.csv",
        ORG_HEADER
        + "top@x.io,Top,,,UTC,US\n"  # 2 fine
        + "a@x.io,A,ghost@x.io,,,\n"  # 3 unknown manager
        + "b@x.io,B,c@x.io,,,\n"  # 4 cycle b -> c -> b
        + "c@x.io,C,b@x.io,,,\n"  # 5
        + "top@x.io,Top again,,,,\n"  # 6 duplicate
        + "d@x.io,D,top@x.io,,Mars/Olympus,\n"  # 7 bad timezone
        + "e@x.io,,top@x.io,nope,,Germany\n"  # 8 no name, bad slack id, bad country
        + "not-an-email,F,,,,\n"  # 9
        + "g@x.io,G,g@x.io,,,\n",  # 10 own manager
    )
    with pytest.raises(ImportRefused) as err:
        import_org(session, bad, now=NOW)
    got = [(p.line, p.message) for p in err.value.problems]
    lines = [line for line, _ in got]
    assert lines == sorted(lines)
    text = "\n".join(f"{line}: {m}" for line, m in got)
    assert "3: unknown manager ghost@x.io" in text
    assert "4: reporting cycle: b@x.io -> c@x.io -> b@x.io" in text
    assert "6: duplicate email top@x.io (first on line 2)" in text
    assert "7: unknown timezone 'Mars/Olympus'" in text
    assert "8: name is empty" in text and "8: slack_user_id 'nope'" in text and "8: country 'Germany'" in text
    assert "9: 'not-an-email' is not an email address" in text
    assert "10: g@x.io cannot be their own manager" in text
    assert "bad.csv:3: unknown manager" in err.value.report()
    assert count(session, Person) == 1  # only the earlier import


def test_bad_header_is_reported_on_line_one(session, tmp_path):
    bad = write(tmp_path, "h.csv", "email,name,boss\nx@x.io,X,\n")
    with pytest.raises(ImportRefused) as err:
        import_org(session, bad, now=NOW)
    assert err.value.problems[0].line == 1
    assert "missing columns manager_email, slack_user_id, timezone, country" in err.value.problems[0].message
    assert "unknown column boss" in err.value.problems[0].message


def test_example_deals_import_with_history_and_export_round_trip(session, tmp_path):
    import_org(session, EXAMPLES / "org.csv", now=NOW)
    result = import_deals(session, EXAMPLES / "deals.csv", PB, now=NOW)
    assert (result.created, result.updated) == (90, 0)
    d4 = session.scalar(sa.select(Deal).where(Deal.ref == "D-4"))
    assert (d4.stage, d4.amount, d4.currency, d4.owner.email) == ("project", Decimal(250000), "CNY", "hua.luogeng@example.com")
    assert d4.forecast == PB.stage("project").forecast.value
    assert [(h.from_stage, h.to_stage) for h in d4.history] == [(None, "project")]

    out = tmp_path / "out.csv"
    with out.open("w", newline="") as f:
        n = export_deals(session.scalars(sa.select(Deal)), f)
    assert n == 90
    assert out.read_text().splitlines() == (EXAMPLES / "deals.csv").read_text().splitlines()


def test_deal_reimport_updates_records_stage_change_and_assigns_refs(session, tmp_path):
    import_org(session, write(tmp_path, "o.csv", ORG_HEADER + "rep@x.io,Rep,,,,\n"), now=NOW)
    import_deals(session, write(tmp_path, "d1.csv", DEALS_HEADER + "D-7,Big,Acme,rep@x.io,1000,USD,prospect,,Call\n"),
                 PB, now=NOW)
    later = NOW.replace(day=30)
    result = import_deals(
        session,
        write(tmp_path, "d2.csv", DEALS_HEADER
              + "d-7,Bigger,Acme,REP@x.io,\"1,500.50\",usd,interested,2027-02-01,Demo\n"
              + ",New one,Beta,rep@x.io,10,EUR,,,\n"),
        PB,
        now=later,
    )
    assert (result.created, result.updated) == (1, 1)
    d7 = session.scalar(sa.select(Deal).where(Deal.ref == "D-7"))
    assert (d7.name, d7.amount, d7.stage, d7.close_date.isoformat()) == ("Bigger", Decimal("1500.50"), "interested", "2027-02-01")
    change = session.scalars(sa.select(StageChange).where(StageChange.deal_id == d7.id).order_by(StageChange.id)).all()[-1]
    assert (change.from_stage, change.to_stage, change.reason) == ("prospect", "interested", "imported from d2.csv")
    assert change.gate_overridden  # prospect's exit criteria were not met
    assert change.changed_at == later
    new = session.scalar(sa.select(Deal).where(Deal.name == "New one"))
    assert (new.ref, new.stage) == ("D-8", "target")


def test_bad_deals_list_every_problem_and_write_nothing(session, tmp_path):
    import_org(session, write(tmp_path, "o.csv", ORG_HEADER + "rep@x.io,Rep,,,,\n"), now=NOW)
    bad = write(
        tmp_path,
        "bad.csv",
        DEALS_HEADER
        + "D-1,Fine,Acme,rep@x.io,100,USD,target,2027-01-01,\n"  # 2 fine
        + "D-2,Unknown stage,Acme,rep@x.io,100,USD,closing,,\n"  # 3
        + "D-3,Bad amount,Acme,rep@x.io,12k,USD,target,,\n"  # 4
        + "D-4,Bad date,Acme,rep@x.io,100,USD,target,31/12/2026,\n"  # 5
        + "D-5,Unknown owner,Acme,who@x.io,100,USD,target,,\n"  # 6
        + "D-1,Duplicate,Acme,rep@x.io,100,USD,target,,\n"  # 7
        + "D-8,Negative,Acme,rep@x.io,-5,USD,target,,\n"  # 8
        + ",,Acme,rep@x.io,100,DOLLARS,target,,\n"  # 9 no name, bad currency
        + "D-9,Short row,Acme\n",  # 10
    )
    with pytest.raises(ImportRefused) as err:
        import_deals(session, bad, PB, now=NOW)
    text = "\n".join(str(p) for p in err.value.problems)
    for expected in (
        "line 3: unknown stage 'closing' (stages: target, prospect, interested, project, shortlisted, negotiation, won, lost)",
        "line 4: amount '12k' is not a non-negative number",
        "line 5: close_date '31/12/2026' is not a date",
        "line 6: unknown owner who@x.io",
        "line 7: duplicate ref D-1 (first on line 2)",
        "line 8: amount '-5'",
        "line 9: name is empty",
        "line 9: currency 'DOLLARS'",
        "line 10: expected 9 fields, found 3",
    ):
        assert expected in text
    assert count(session, Deal) == 0
    assert count(session, StageChange) == 0


def test_every_problem_of_every_row_is_listed_at_once(session, tmp_path):
    bad = write(tmp_path, "org.csv", ORG_HEADER
                + "boss@x.io,Boss,,,,\n"
                + "rep@x.io,Rep,ghost@x.io,U0REP,Mars/Olympus,Germany\n"  # three problems in one row
                + "not-an-email,,boss@x.io,nope,,\n"  # email, name and slack id
                + "other@x.io,Other,ghost2@x.io,,,\n")
    with pytest.raises(ImportRefused) as refused:
        import_org(session, bad, now=NOW)
    report = refused.value.report()
    assert report.splitlines()[0] == f"{bad}: 7 problems, nothing was imported"
    for expected in ("org.csv:3: unknown timezone 'Mars/Olympus'", "org.csv:3: country 'Germany' is not",
                     "org.csv:3: unknown manager ghost@x.io", "org.csv:4: 'not-an-email' is not an email address",
                     "org.csv:4: name is empty", "org.csv:4: slack_user_id 'nope'", "org.csv:5: unknown manager ghost2@x.io"):
        assert expected in report, report
    assert count(session, Person) == 0


def test_a_missing_file_is_reported_as_not_found(session, tmp_path):
    with pytest.raises(ImportRefused) as refused:
        import_org(session, tmp_path / "nope.csv", now=NOW)
    assert refused.value.report().splitlines()[1] == f"  {tmp_path / 'nope.csv'}: file not found (check the path)"
    with pytest.raises(ImportRefused) as refused:
        import_deals(session, tmp_path, PB, now=NOW)
    assert "is a folder, not a CSV file" in refused.value.report()


def test_an_optional_language_column_sets_each_persons_language(session, tmp_path):
    header = ORG_HEADER.replace("country\n", "country,language\n")
    path = write(tmp_path, "l.csv", header + "boss@x.io,王芳,,,Asia/Shanghai,CN,zh-CN\nrep@x.io,Rep,boss@x.io,,,,\n")
    import_org(session, path, now=NOW)
    langs = dict(session.execute(sa.select(Person.email, Person.language)).all())
    assert langs == {"boss@x.io": "zh", "rep@x.io": None}
    bad = write(tmp_path, "m.csv", header + "boss@x.io,王芳,,,,,fr\n")
    with pytest.raises(ImportRefused) as e:
        import_org(session, bad, now=NOW)
    assert "line 2: language 'fr' is not one of en, zh" in e.value.report().replace("m.csv:2:", "line 2:")
    assert session.scalar(sa.select(Person.language).where(Person.email == "boss@x.io")) == "zh"


def test_a_field_past_the_csv_modules_limit_is_a_problem_on_its_line(session, tmp_path):
    """A quote left open swallows the rest of the file into one field; past 131,072 characters the
    csv module gives up (it was an uncaught _csv.Error and a traceback)."""
    import_org(session, EXAMPLES / "org.csv", now=NOW)
    before = count(session, Deal)
    huge = "x" * 200_000
    bad = write(tmp_path, "d.csv", DEALS_HEADER
                + "D-1,Fine,Acme,tommy.flowers@example.com,100,GBP,target,,\n"
                + f'D-2,"Open quote {huge},Acme,tommy.flowers@example.com,100,GBP,target,,\n')
    with pytest.raises(ImportRefused) as e:
        import_deals(session, bad, PB, now=NOW)
    assert "d.csv:3: cannot be read as CSV from here: a field is longer than 131,072 characters" in e.value.report()
    assert count(session, Deal) == before
    header_too = write(tmp_path, "h.csv", f'"{huge}\n')
    with pytest.raises(ImportRefused) as e:
        import_deals(session, header_too, PB, now=NOW)
    assert "h.csv:1: cannot be read as CSV" in e.value.report()
