"""Coverage for the digests: targets and wins loaded once, each person's coverage on demand."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db.models import Deal, Target
from bot.domain import org
from bot.domain.coverage import Coverage, TargetFact, WonFact, coverage
from bot.domain.digest import Node
from bot.domain.plan import Period
from bot.domain.playbook import Playbook
from bot.domain.rates import Rates


class CoverageIndex:
    """Coverage of anyone in the org for the periods containing ``day``, from two bulk queries."""

    def __init__(self, session: so.Session, playbook: Playbook, managers: dict[str, str | None],
                 nodes: dict[str, Node], day: date, *, rates: Rates | None = None,
                 currency: str | None = None) -> None:
        """With ``rates`` and ``currency`` (the digest's reporting currency), targets and wins are
        converted to it as of ``day``, so they compare with the converted pipeline."""
        self.managers, self.nodes = managers, nodes
        self.reports = org.reports_of(managers)  # once: each person's subtree is walked from it

        def conv(amount: Decimal, code: str) -> tuple[Decimal, str]:
            if rates is None or not currency or code == currency:
                return amount, code
            converted = rates.convert(amount, code, currency, day)
            return (amount, code) if converted is None else (converted.quantize(Decimal(1)), currency)

        self.targets: dict[str, list[TargetFact]] = defaultdict(list)
        for pid, label, starts, ends, amount, code in session.execute(
                sa.select(Target.person_id, Target.period, Target.starts, Target.ends, Target.amount, Target.currency)
                .where(Target.starts <= day, Target.ends >= day)):
            self.targets[str(pid)].append(TargetFact(str(pid), Period(starts, ends, label), *conv(amount, code)))
        earliest = min((t.period.start for ts in self.targets.values() for t in ts), default=day)
        self.won: dict[str, list[WonFact]] = defaultdict(list)
        if self.targets:
            for owner, amount, code, at in session.execute(
                    sa.select(Deal.owner_id, Deal.amount, Deal.currency, Deal.stage_entered_at)
                    .where(Deal.stage == playbook.won.key,
                           Deal.stage_entered_at >= datetime.combine(earliest, time.min, tzinfo=UTC))):
                self.won[str(owner)].append(WonFact(str(owner), *conv(amount, code), at.date()))
        self.of = cache(self._of)

    def _of(self, key: str) -> Coverage | None:
        if not self.targets:
            return None
        node = self.nodes.get(key)
        if node is None:
            return None
        team = [k for k in org.subtree(self.managers, key, self.reports) if k != key]
        return coverage(key, team, self.targets, self.won, node.totals.open_amount, node.totals.weighted)
