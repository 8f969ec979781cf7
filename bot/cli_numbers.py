"""``coach plan``, ``coach targets import`` and ``coach report``: the team's numbers in the terminal."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import click

from bot import i18n
from bot.domain.plan import ActivityRatios, activity_plan
from bot.domain.values import MAX_AMOUNT, parse_amount

MAX_RATIO = 1000.0  # e.g. calls per visit: far above any funnel, low enough that the arithmetic stays finite


def _decimal(text: str, what: str) -> Decimal:
    value = parse_amount(text)
    if value is None:
        raise click.BadParameter(f"{text!r}: give an amount from 0 up to {MAX_AMOUNT:,.0f}, with at most two "
                                 "decimals, e.g. 120,000", param_hint=what)
    return value


def _ratios(text: str) -> ActivityRatios:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(0 < v <= MAX_RATIO for v in values):  # NaN and inf fail too
        raise click.BadParameter(f"{text!r}: give four numbers above 0, e.g. 3,2,2,2 (target customers per deal, "
                                 "proposals per customer, visits per proposal, calls per visit)", param_hint="--ratios")
    return ActivityRatios(*values)


def register(main: click.Group) -> None:
    """Add the numbers commands to ``coach``."""
    from bot.cli import deps_from, friendly, ready_db

    @main.command("plan")
    @click.option("--target", required=True, metavar="N", help="The period's revenue target, e.g. 100000.")
    @click.option("--achieved", default="0", show_default=True, metavar="N|P%",
                  help="Already won: an amount, or a share of the target like 80%.")
    @click.option("--average-deal", required=True, metavar="N", help="The average won deal, e.g. 2000.")
    @click.option("--ratios", default="3,2,2,2", show_default=True, metavar="A,B,C,D",
                  help="Target customers per deal, proposals per customer, visits per proposal, calls per visit.")
    @click.option("--working-days", default=20, show_default=True, type=click.IntRange(0, 366),
                  help="Working days left in the period.")
    @click.option("--pipeline", "weighted", default="0", show_default=True, metavar="N",
                  help="Open pipeline weighted by stage probability, counted towards the target.")
    @click.option("--lang", type=click.Choice(list(i18n.LANGUAGES)), default="en", show_default=True)
    def plan_command(target: str, achieved: str, average_deal: str, ratios: str, working_days: int,
                     weighted: str, lang: str) -> None:
        """Work back from a target to deals, target customers, proposals, visits and calls a day.

        The sales platform's arithmetic for the inputs you give, no database needed. The method's
        worked example: coach plan --target 100000 --achieved 80% --average-deal 2000 --ratios 3,2,2,2
        --working-days 20
        """
        from bot.render.numbers import plan_text

        t = _decimal(target, "--target")
        a = (t * _decimal(achieved[:-1], "--achieved") / 100) if achieved.strip().endswith("%") \
            else _decimal(achieved, "--achieved")
        avg = _decimal(average_deal, "--average-deal")
        if avg == 0:
            raise click.BadParameter("the average deal must be more than 0", param_hint="--average-deal")
        plan = activity_plan(target=t, achieved=a, average_deal=avg, ratios=_ratios(ratios),
                             working_days=working_days, weighted_open=_decimal(weighted, "--pipeline"))
        with i18n.language(lang):
            click.echo(plan_text(plan))

    @main.group()
    def targets() -> None:
        """Revenue targets per person and period."""

    @targets.command("import")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.pass_context
    @friendly
    def targets_import(ctx: click.Context, file: Path) -> None:
        """Import targets from FILE (CSV: email,period,amount,currency).

        A period is a month (2026-11), a quarter (2026-Q4) or a year (2026). A person's
        target for a period that already has one is replaced. If any line has a problem,
        every problem is listed and nothing is written. A manager without a target of their
        own is measured against the sum of their team's.
        """
        from bot.imports.targets_csv import import_targets

        deps = deps_from(ctx)
        with ready_db(deps) as session:
            result = import_targets(session, file, now=deps.clock.now())
        click.echo(f"Targets imported from {file}: {result.created} added, {result.updated} replaced")

    @main.command("report")
    @click.option("--as", "email", required=True, metavar="EMAIL", help="Whose numbers (someone in the org).")
    @click.option("--csv", "as_csv", is_flag=True, help="Print the numbers as CSV rows (section,key,value,detail).")
    @click.option("--lang", type=click.Choice(list(i18n.LANGUAGES)), default="en", show_default=True)
    @click.pass_context
    @friendly
    def report(ctx: click.Context, email: str, as_csv: bool, lang: str) -> None:
        """A person's numbers: target and coverage, the plan, ratios, time in stage, win rate,
        plan vs last week's activity, and lead scores. A manager's cover their whole team."""
        from bot.db import repo
        from bot.render.numbers import report_text
        from bot.services.numbers import numbers_for

        deps = deps_from(ctx)
        with ready_db(deps) as session:
            person = repo.person_by_email(session, email)
            if person is None:
                raise click.ClickException(f"{email} is not in the org; `coach org show` lists who is")
            n = numbers_for(session, deps.playbook, person, now=deps.clock.now())
            if as_csv:
                _write_csv(n)
            else:
                with i18n.language(lang):
                    click.echo(report_text(n, deps.playbook, lang))


def _write_csv(n: object) -> None:
    from bot.imports.csvfile import csv_writer
    from bot.services.numbers import Numbers

    assert isinstance(n, Numbers)
    w = csv_writer(sys.stdout)
    w.writerow(["section", "key", "value", "detail"])
    if n.target:
        w.writerow(["target", n.target.period, n.target.amount, n.currency])
    w.writerow(["coverage", "won", n.achieved, n.currency])
    w.writerow(["coverage", "open", n.open_amount, n.currency])
    w.writerow(["coverage", "weighted", n.weighted, n.currency])
    if n.plan:
        for key in ("deals", "customers", "proposals", "visits", "calls"):
            w.writerow(["plan", key, getattr(n.plan, key), ""])
        w.writerow(["plan", "visits_a_day", n.plan.visits_a_day, f"{n.plan.working_days} working days"])
        w.writerow(["plan", "calls_a_day", n.plan.calls_a_day, f"{n.plan.working_days} working days"])
    for step, r in n.activity_ratios.items():
        w.writerow(["activity_ratio", step, f"{r.value:.2f}", f"{r.source.value} ({r.sample})"])
    if n.last_week:
        for key in ("visits", "calls", "proposals"):
            w.writerow(["last_week", key, getattr(n.last_week, key), n.last_week_start.isoformat()])
    for c, r in zip(n.conversions, n.stage_ratios, strict=True):
        w.writerow(["conversion", f"{c.from_stage}->{c.to_stage}", f"{c.reached_to}/{c.reached_from}",
                    f"1:{r.value:.2f} {r.source.value}"])
    for t in n.times:
        w.writerow(["time_in_stage", t.stage, "" if t.median is None else f"{t.median:.1f}",
                    "" if t.p80 is None else f"p80 {t.p80:.1f} ({t.sample})"])
    o = n.outcomes
    w.writerow(["outcomes", "won", o.won, ""])
    w.writerow(["outcomes", "lost", o.lost, ""])
    w.writerow(["outcomes", "win_rate", "" if o.win_rate is None else f"{o.win_rate:.2f}", ""])
    for c, a in o.average_deal.items():
        w.writerow(["outcomes", "average_deal", a, c])
    w.writerow(["outcomes", "cycle_days", "" if o.cycle_days is None else f"{o.cycle_days:.1f}", "median"])
    for f, s in n.scores:
        w.writerow(["lead_score", f.ref, s.value, f"{s.best.kind}:{s.best.key}:+{s.best.gain}" if s.best else ""])
