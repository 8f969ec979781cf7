"""Coverage for the digests: targets and wins loaded once, each person's coverage on demand."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time
from functools import cache

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db.models import Deal, Target
from bot.domain import org
from bot.domain.coverage import Coverage, TargetFact, WonFact, coverage
from bot.domain.digest import Node
from bot.domain.plan import Period
from bot.domain.playbook import Playbook


class CoverageIndex:
    """Coverage of anyone in the org for the periods containing ``day``, from two bulk queries."""

    def __init__(self, session: so.Session, playbook: Playbook, managers: dict[str, str | None],
                 nodes: dict[str, Node], day: date) -> None:
        self.managers, self.nodes = managers, nodes
        self.targets: dict[str, list[TargetFact]] = defaultdict(list)
        for pid, label, starts, ends, amount, currency in session.execute(
                sa.select(Target.person_id, Target.period, Target.starts, Target.ends, Target.amount, Target.currency)
                .where(Target.starts <= day, Target.ends >= day)):
            self.targets[str(pid)].append(TargetFact(str(pid), Period(starts, ends, label), amount, currency))
        earliest = min((t.period.start for ts in self.targets.values() for t in ts), default=day)
        self.won: dict[str, list[WonFact]] = defaultdict(list)
        if self.targets:
            for owner, amount, currency, at in session.execute(
                    sa.select(Deal.owner_id, Deal.amount, Deal.currency, Deal.stage_entered_at)
                    .where(Deal.stage == playbook.won.key,
                           Deal.stage_entered_at >= datetime.combine(earliest, time.min, tzinfo=UTC))):
                self.won[str(owner)].append(WonFact(str(owner), amount, currency, at.date()))
        self.of = cache(self._of)

    def _of(self, key: str) -> Coverage | None:
        if not self.targets:
            return None
        node = self.nodes.get(key)
        if node is None:
            return None
        team = [k for k in org.subtree(self.managers, key) if k != key]
        return coverage(key, team, self.targets, self.won, node.totals.open_amount, node.totals.weighted)
