"""Loading and checking playbook files.

A playbook is YAML; every problem is reported with its line and a dotted path
(``stages[3].exit.bant[0]``), all at once, so an author fixes a file in one go.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.domain.plan import ActivityRatios
from bot.domain.playbook import (
    LOST,
    MARKER_PREFIX,
    BantQuestion,
    BuyingRole,
    EntryCriteria,
    Evaluation,
    ExitCriteria,
    Forecast,
    Item,
    NumbersSettings,
    Playbook,
    ScoreWeights,
    Stage,
    Text,
)
from bot.playbooks.schema import PlaybookIn, TextIn

BUILTIN = ("default", "industrial")
BANT_KEYS = ("budget", "authority", "need", "timeline")
Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    line: int | None
    path: str
    message: str
    file: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class PlaybookError(ValueError):
    def __init__(self, file: str, problems: list[Problem]) -> None:
        super().__init__(f"{file}: {len(problems)} problem(s)")
        self.file = file
        self.problems = problems


def builtin_path(name: str) -> Path:
    return Path(str(resources.files("bot.playbooks").joinpath(f"{name}.yaml")))


def _dotted(path: Path_) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _compose(text: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML, keeping the line of every node by its path."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[Path_, int] = {}

    def walk(n: yaml.Node | None, path: Path_) -> Any:
        if n is None:
            return None
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for k, v in n.value:
                key = k.value
                lines[(*path, key)] = k.start_mark.line + 1
                out[key] = walk(v, (*path, key))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [walk(v, (*path, i)) for i, v in enumerate(n.value)]
        loader = yaml.SafeLoader("")
        return loader.construct_object(n, deep=True)

    return walk(node, ()), lines


class _Checker:
    def __init__(self, file: str, lines: dict[Path_, int]) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[Problem] = []

    def line(self, path: Path_) -> int | None:
        for i in range(len(path), -1, -1):
            if path[:i] in self.lines:
                return self.lines[path[:i]]
        return None

    def add(self, path: Path_, message: str) -> None:
        self.problems.append(Problem(self.line(path), _dotted(path), message, self.file))


def _semantic(pb: PlaybookIn, c: _Checker) -> None:
    bant = [q.key for q in pb.bant]
    roles = [r.key for r in pb.roles]
    evals = [e.key for e in pb.evaluations]
    for i, q in enumerate(pb.bant):
        if q.key not in BANT_KEYS:
            c.add(("bant", i, "key"), f"unknown BANT item '{q.key}' (BANT is {', '.join(BANT_KEYS)})")
    for name, keys in (("bant", bant), ("roles", roles), ("evaluations", evals)):
        for i, k in enumerate(keys):
            if k in keys[:i]:
                c.add((name, i, "key"), f"duplicate key '{k}'")
    for i, e in enumerate(pb.evaluations):
        if not 1 <= e.pass_mark <= len(e.items):
            c.add(("evaluations", i, "pass_mark"), f"pass_mark must be between 1 and {len(e.items)}")
        item_keys = [it.key for it in e.items]
        for j, k in enumerate(item_keys):
            if k in item_keys[:j]:
                c.add(("evaluations", i, "items", j, "key"), f"duplicate item key '{k}'")
    if len(pb.stages) < 2:
        c.add(("stages",), "a playbook needs at least two stages (the last one is the won stage)")
    seen_stage: list[str] = []
    seen_char: dict[str, int] = {}
    last_prob = -1
    for i, s in enumerate(pb.stages):
        at = ("stages", i)
        if s.key == LOST:
            c.add((*at, "key"), "'lost' is the terminal outcome; define it under `lost:`, not as a stage")
        if s.key in seen_stage:
            c.add((*at, "key"), f"duplicate stage key '{s.key}'")
        seen_stage.append(s.key)
        if not 0 <= s.probability <= 100:
            c.add((*at, "probability"), "probability must be between 0 and 100")
        elif s.probability < last_prob:
            c.add((*at, "probability"), f"probabilities must not decrease (previous stage has {last_prob})")
        last_prob = max(last_prob, s.probability)
        if s.forecast not in {f.value for f in Forecast}:
            c.add((*at, "forecast"), f"unknown forecast '{s.forecast}' (use {', '.join(f.value for f in Forecast)})")
        if s.stall_days is not None and s.stall_days < 1:
            c.add((*at, "stall_days"), "stall_days must be at least 1")
        own = [ch.key for ch in s.characteristics]
        conditions = [ch.key for ch in s.conditions]
        for field, keys in (("characteristics", own), ("conditions", conditions)):
            for j, k in enumerate(keys):
                if k in seen_char:
                    c.add((*at, field, j, "key"),
                          f"duplicate characteristic key '{k}' (also in stages[{seen_char[k]}])")
                elif k.startswith(MARKER_PREFIX):
                    c.add((*at, field, j, "key"), f"keys starting '{MARKER_PREFIX}' are kept for stage markers")
                seen_char.setdefault(k, i)
        if i == 0 and (s.entry.marker or s.entry.characteristics or s.entry.bant or s.entry.roles
                       or s.entry.evaluations):
            c.add((*at, "entry"), "the first stage has no entry criteria (deals start there)")
        for j, k in enumerate(s.entry.characteristics):
            if k not in own + conditions:
                c.add((*at, "entry", "characteristics", j), f"'{k}' is not a characteristic or condition of stage "
                      f"'{s.key}' (known: {', '.join(own + conditions) or 'none'})")
        for j, k in enumerate(s.exit.characteristics):
            if k not in own:
                c.add((*at, "exit", "characteristics", j), f"'{k}' is not a characteristic of stage '{s.key}' "
                      f"(known: {', '.join(own) or 'none'})")
        for field, known, what in (("bant", bant, "BANT item"), ("roles", roles, "buying role"),
                                   ("evaluations", evals, "evaluation")):
            for part in ("exit", "entry"):
                for j, k in enumerate(getattr(getattr(s, part), field)):
                    if k not in known:
                        c.add((*at, part, field, j), f"unknown {what} '{k}' (known: {', '.join(known) or 'none'})")
    _check_numbers(pb, c)
    if pb.stages:
        won = pb.stages[-1]
        at = ("stages", len(pb.stages) - 1)
        if won.probability != 100:
            c.add((*at, "probability"), "the last stage is the won stage: its probability must be 100")
        if won.forecast != Forecast.CLOSED.value:
            c.add((*at, "forecast"), "the last stage is the won stage: its forecast must be 'closed'")


def _check_numbers(pb: PlaybookIn, c: _Checker) -> None:
    """The ``scoring:`` weights add up to 100, day counts and ratios make sense."""
    sc = pb.scoring
    weights = sc.weights.model_dump()
    for k, v in weights.items():
        if v < 0:
            c.add(("scoring", "weights", k), "a weight cannot be negative")
    if sum(weights.values()) != 100:
        parts = " + ".join(f"{k} {v}" for k, v in weights.items())
        c.add(("scoring", "weights"), f"the weights must add up to 100 (now {parts} = {sum(weights.values())})")
    for k in ("fresh_days", "stale_days", "bant_fresh_days"):
        if getattr(sc, k) < 1:
            c.add(("scoring", k), f"{k} must be at least 1")
    if sc.stale_days <= sc.fresh_days:
        c.add(("scoring", "stale_days"), f"stale_days must be more than fresh_days ({sc.fresh_days})")
    nu = pb.numbers
    for k, v in nu.activity_ratios.model_dump().items():
        if v <= 0:
            c.add(("numbers", "activity_ratios", k), "a ratio must be more than 0 (it is the X of 1 : X)")
    if nu.stage_ratio < 1:
        c.add(("numbers", "stage_ratio"), "stage_ratio must be at least 1 (it is the X of 1 : X)")
    if nu.min_sample < 1:
        c.add(("numbers", "min_sample"), "min_sample must be at least 1")
    if nu.window_days < 7:
        c.add(("numbers", "window_days"), "window_days must be at least 7")


def _parse(text: str, file: str) -> tuple[PlaybookIn | None, list[Problem]]:
    try:
        data, lines = _compose(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        msg = f"not valid YAML: {getattr(e, 'problem', None) or e}"
        return None, [Problem(mark.line + 1 if mark else None, "", msg, file)]
    c = _Checker(file, lines)
    if not isinstance(data, dict):
        c.add((), "the file must be a mapping with key, name, bant, roles, evaluations, stages and lost")
        return None, c.problems
    try:
        pb = PlaybookIn.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            loc = tuple(err["loc"])
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            c.add(loc, msg)
        return None, c.problems
    _semantic(pb, c)
    return (pb if not c.problems else None), c.problems


def _read(path: Path) -> tuple[str | None, list[Problem]]:
    try:
        return path.read_text(encoding="utf-8"), []
    except FileNotFoundError:
        return None, [Problem(None, "", f"no such file (use a path, or one of: {', '.join(BUILTIN)})", str(path))]
    except (OSError, UnicodeDecodeError) as e:
        return None, [Problem(None, "", f"cannot read the file: {e}", str(path))]


def check_playbook(path: str | Path) -> list[Problem]:
    """Every problem in the playbook file at ``path`` (empty when it is valid)."""
    path = Path(path)
    text, problems = _read(path)
    if text is None:
        return problems
    return _parse(text, path.name)[1]


def missing_languages(pb: Playbook, languages: Iterable[str]) -> list[str]:
    """Every text of ``pb`` with no rendering in one of ``languages`` (English is always there),
    each as a path into the playbook, e.g. ``stages[prospect].marker: no zh text ("There is...")``."""
    wanted = sorted(set(languages) - {"en"})
    out: list[str] = []

    def walk(obj: object, path: str) -> None:
        if isinstance(obj, Text):
            out.extend(f"{path}: no {lang} text (“{obj.en}”)" for lang in wanted if not getattr(obj, lang, None))
        elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            for f in dataclasses.fields(obj):
                walk(getattr(obj, f.name), f"{path}.{f.name}" if path else f.name)
        elif isinstance(obj, tuple | list):
            for i, x in enumerate(obj):
                walk(x, f"{path}[{getattr(x, 'key', i)}]")

    walk(pb, "")
    return out


def _text(t: TextIn) -> Text:
    return Text(t.en, t.zh)


def _to_domain(pb: PlaybookIn) -> Playbook:
    return Playbook(
        key=pb.key,
        name=_text(pb.name),
        stages=tuple(
            Stage(
                key=s.key,
                name=_text(s.name),
                marker=_text(s.marker),
                characteristics=tuple(Item(c.key, _text(c.text)) for c in s.characteristics),
                actions=tuple(_text(a) for a in s.actions),
                probability=s.probability,
                forecast=Forecast(s.forecast),
                exit=ExitCriteria(tuple(s.exit.characteristics), tuple(s.exit.bant), tuple(s.exit.roles),
                                  tuple(s.exit.evaluations)),
                stall_days=s.stall_days,
                entry=EntryCriteria(s.entry.marker, tuple(s.entry.characteristics), tuple(s.entry.bant),
                                    tuple(s.entry.roles), tuple(s.entry.evaluations)),
                conditions=tuple(Item(c.key, _text(c.text)) for c in s.conditions),
                buyer_stage=_text(s.buyer_stage) if s.buyer_stage else None,
            )
            for s in pb.stages
        ),
        bant=tuple(BantQuestion(q.key, _text(q.name), _text(q.question)) for q in pb.bant),
        roles=tuple(BuyingRole(r.key, _text(r.name), _text(r.description), r.multiple) for r in pb.roles),
        evaluations=tuple(
            Evaluation(e.key, _text(e.name),
                       tuple(Item(i.key, _text(i.text), _text(i.question) if i.question else None) for i in e.items),
                       e.pass_mark)
            for e in pb.evaluations
        ),
        lost_reasons=tuple(_text(r) for r in pb.lost.reasons),
        lost_name=_text(pb.lost.name),
        scoring=ScoreWeights(**pb.scoring.weights.model_dump(), fresh_days=pb.scoring.fresh_days,
                             stale_days=pb.scoring.stale_days, bant_fresh_days=pb.scoring.bant_fresh_days),
        numbers=NumbersSettings(ActivityRatios(**pb.numbers.activity_ratios.model_dump()), pb.numbers.stage_ratio,
                                pb.numbers.min_sample, pb.numbers.window_days),
    )


def load_playbook(path_or_name: str | Path) -> Playbook:
    """A builtin playbook by name, or one from a file; PlaybookError lists every problem."""
    path = builtin_path(str(path_or_name)) if str(path_or_name) in BUILTIN else Path(path_or_name)
    text, problems = _read(path)
    if text is None:
        raise PlaybookError(str(path), problems)
    pb, problems = _parse(text, path.name)
    if pb is None:
        raise PlaybookError(str(path), problems)
    return _to_domain(pb)


# `coach playbook show`'s own words, English and Chinese (the playbook's texts come from the playbook).
_SHOW: dict[str, dict[str, str]] = {
    "en": {"marker_item": "the marker", "role": "role", "evaluation": "evaluation", "days": "{n} days",
           "p80": "the team's 80th percentile", "stage_line": "{p}% · {forecast} · stalled after {stall}",
           "buyer": "Customer buying stage", "marker": "Marker", "chars": "Characteristics", "actions": "Actions",
           "conditions": "Entry conditions", "entry": "To enter this stage", "exit": "To leave this stage",
           "roles": "Buying roles", "several": " (several)", "evaluations": "Evaluations",
           "pass": " (pass: {need}/{of})", "sep": ": ", "list": ", ",
           "weights": "Lead score weights: {weights} (fully fresh within {fresh} days, stale after {stale})",
           "plan": "Plan defaults: 1 : {c:g} target customers per deal, {p:g} proposals per customer, {v:g} visits "
                   "per proposal, {k:g} calls per visit; 1 : {s:g} between stages when the history is too thin"},
    "zh": {"marker_item": "标志", "role": "角色", "evaluation": "评估", "days": "{n} 天",
           "p80": "团队的 80 百分位", "stage_line": "{p}% · {forecast} · 超过 {stall}即停滞",
           "buyer": "客户采购阶段", "marker": "标志", "chars": "特征", "actions": "动作",
           "conditions": "条件", "entry": "进入条件", "exit": "出口条件",
           "roles": "采购角色", "several": "（可多人）", "evaluations": "评估",
           "pass": "（{of} 项中需 {need} 项）", "sep": "：", "list": "、",
           "weights": "评分权重：{weights}（{fresh} 天内为最新，{stale} 天后为陈旧）",
           "plan": "计划默认比例：每单 {c:g} 个目标客户、每个客户 {p:g} 份方案、每份方案 {v:g} 次拜访、"
                   "每次拜访 {k:g} 个电话；历史数据太少时，阶段之间按 1 : {s:g} 计"},
}
_FORECAST_ZH = {"pipeline": "其他", "best_case": "乐观", "commit": "承诺"}
_SCORE_PARTS_ZH = {"bant": "BANT", "exit": "出口条件", "roles": "采购角色", "evaluations": "评估", "stage": "阶段",
                   "recency": "更新及时"}


def _criteria_lines(pb: Playbook, s: Stage, crit: EntryCriteria | ExitCriteria, lang: str) -> list[str]:
    """One line per thing a gate asks for: entering a stage can also ask for its marker."""
    w = _SHOW["zh" if lang == "zh" else "en"]
    out = []
    if isinstance(crit, EntryCriteria) and crit.marker:
        out.append(f"     - {w['marker_item']}{w['sep']}{s.marker.in_(lang)}")
    out += [f"     - {c.text.in_(lang)}" for k in crit.characteristics if (c := s.characteristic(k)) is not None]
    out += [f"     - BANT{w['sep']}{pb.bant_question(k).name.in_(lang)}" for k in crit.bant]
    out += [f"     - {w['role']}{w['sep']}{pb.role(k).name.in_(lang)}" for k in crit.roles]
    out += [f"     - {w['evaluation']}{w['sep']}{pb.evaluation(k).name.in_(lang)}" for k in crit.evaluations]
    return out


def describe_playbook(pb: Playbook, lang: str = "en") -> str:
    """The playbook as plain text, stage by stage, for ``coach playbook show``."""
    zh = lang == "zh"
    w = _SHOW["zh" if zh else "en"]
    sep = w["sep"]
    out = [f"{pb.name.in_(lang)}（标识：{pb.key}）" if zh else f"{pb.name.in_(lang)} ({pb.key})", ""]
    for n, s in enumerate(pb.stages, start=1):
        stall = w["days"].format(n=s.stall_days) if s.stall_days is not None else w["p80"]
        forecast = _FORECAST_ZH.get(s.forecast.value, s.forecast.value) if zh else s.forecast.value
        out.append(f"{n}. {s.name.in_(lang)} [{s.key}]  " + w["stage_line"].format(p=s.probability, forecast=forecast,
                                                                                    stall=stall))
        if s.buyer_stage:
            out.append(f"   {w['buyer']}{sep}{s.buyer_stage.in_(lang)}")
        out.append(f"   {w['marker']}{sep}{s.marker.in_(lang)}")
        if s.characteristics:
            out.append(f"   {w['chars']}{sep.rstrip()}")
            out += [f"     - {c.text.in_(lang)} [{c.key}]" for c in s.characteristics]
        if s.actions:
            out.append(f"   {w['actions']}{sep.rstrip()}")
            out += [f"     - {a.in_(lang)}" for a in s.actions]
        if s.conditions:
            out.append(f"   {w['conditions']}{sep.rstrip()}")
            out += [f"     - {c.text.in_(lang)} [{c.key}]" for c in s.conditions]
        crits: list[tuple[EntryCriteria | ExitCriteria, str]] = [(s.entry, w["entry"]), (s.exit, w["exit"])]
        for crit, title in crits:
            if not crit.empty:
                out.append(f"   {title}{sep.rstrip()}")
                out += _criteria_lines(pb, s, crit, lang)
        out.append("")
    reasons = ("；" if zh else "; ").join(r.in_(lang) for r in pb.lost_reasons)
    out.append(f"{pb.lost_name.in_(lang)} [{LOST}]{sep}{reasons}")
    out += ["", f"BANT{sep.rstrip()}"]
    out += [f"  - {q.name.in_(lang)}{sep}{q.question.in_(lang)}" for q in pb.bant]
    out += ["", f"{w['roles']}{sep.rstrip()}"]
    out += [f"  - {r.name.in_(lang)}{w['several'] if r.multiple else ''}{sep}{r.description.in_(lang)}"
            for r in pb.roles]
    out += ["", f"{w['evaluations']}{sep.rstrip()}"]
    for ev in pb.evaluations:
        out.append(f"  - {ev.name.in_(lang)}" + w["pass"].format(need=ev.pass_mark, of=len(ev.items)))
        for i in ev.items:
            out.append(f"      · {i.text.in_(lang)}")
            if i.question:
                out.append(f"        {i.question.in_(lang)}")
    sc = pb.scoring
    parts = w["list"].join(f"{_SCORE_PARTS_ZH.get(k, k) if zh else k} {sc.weight(k)}" for k in sc.PARTS)
    out += ["", w["weights"].format(weights=parts, fresh=sc.fresh_days, stale=sc.stale_days)]
    r = pb.numbers.activity
    out.append(w["plan"].format(c=r.customers_per_deal, p=r.proposals_per_customer, v=r.visits_per_proposal,
                                k=r.calls_per_visit, s=pb.numbers.stage_ratio))
    return "\n".join(out)
