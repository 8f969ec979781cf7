"""The org tree: who reports to whom, tiers, subtrees, and checks on it.

A person's tier is 0 with no reports, else 1 + the highest tier among their
direct reports, so first-line managers are tier 1 whatever the depth above.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    key: str  # a stable identifier: email in imports, id in the database
    manager: str | None


class OrgError(ValueError):
    pass


def find_cycles(managers: Mapping[str, str | None]) -> list[list[str]]:
    """Every reporting cycle (each as the list of keys in it), in a stable order."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []
    for start in sorted(managers):
        path: list[str] = []
        node: str | None = start
        while node is not None and node in managers and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = managers[node]
        if node is not None and state.get(node) == 1:
            cycles.append(path[path.index(node):])
        for p in path:
            state[p] = 2
    return cycles


def reports_of(managers: Mapping[str, str | None]) -> dict[str, list[str]]:
    """Direct reports of each key, sorted for a stable order."""
    out: dict[str, list[str]] = {k: [] for k in managers}
    for person, boss in managers.items():
        if boss is not None and boss in out:
            out[boss].append(person)
    for v in out.values():
        v.sort()
    return out


def tiers(managers: Mapping[str, str | None]) -> dict[str, int]:
    """Tier of every person; the org must be acyclic."""
    if find_cycles(managers):
        raise OrgError("the reporting lines contain a cycle")
    reports = reports_of(managers)
    out: dict[str, int] = {}
    # Iterative post-order so a very deep org cannot overflow the stack.
    for root in sorted(managers):
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node in out:
                continue
            if expanded:
                out[node] = 1 + max((out[r] for r in reports[node]), default=-1)
            else:
                stack.append((node, True))
                stack.extend((r, False) for r in reports[node] if r not in out)
    return out


def subtree(managers: Mapping[str, str | None], root: str,
            reports: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """``root`` and everyone beneath it, breadth first; ``reports``: ``reports_of(managers)``, when the
    caller has it (it walks the whole org: once per manager adds up in a large one)."""
    if reports is None:
        reports = reports_of(managers)
    out: list[str] = []
    queue = deque([root])
    while queue:
        node = queue.popleft()
        out.append(node)
        queue.extend(reports.get(node, []))
    return out


def chain_of_command(managers: Mapping[str, str | None], key: str) -> list[str]:
    """Managers of ``key`` from the direct one up to the top."""
    out: list[str] = []
    node = managers.get(key)
    while node is not None and node not in out:
        out.append(node)
        node = managers.get(node)
    return out


def is_within(managers: Mapping[str, str | None], boss: str, person: str) -> bool:
    """True when ``person`` is ``boss`` or anywhere beneath them."""
    return person == boss or boss in chain_of_command(managers, person)


def roots(members: Iterable[Member]) -> list[str]:
    return sorted(m.key for m in members if m.manager is None)
