from pathlib import Path

import pytest

from bot.domain.playbook import Forecast
from bot.playbooks.loader import PlaybookError, builtin_path, check_playbook, describe_playbook, load_playbook


def test_default_playbook_is_the_seven_stage_funnel():
    pb = load_playbook("default")
    assert pb.keys == ("target", "prospect", "interested", "project", "shortlisted", "negotiation", "won")
    assert [s.probability for s in pb.stages] == [0, 10, 20, 40, 60, 80, 100]
    assert pb.won.forecast is Forecast.CLOSED
    assert [q.key for q in pb.bant] == ["budget", "authority", "need", "timeline"]
    assert [r.key for r in pb.roles] == ["economic_buyer", "technical_buyer", "user", "coach"]
    assert [e.key for e in pb.evaluations] == ["is_real", "worth_winning", "can_compete", "can_win"]
    assert all(len(e.items) == 5 for e in pb.evaluations)
    assert pb.stage("interested").exit.evaluations == ("is_real",)
    assert pb.stage("project").name.zh == "立项客户"


def test_industrial_playbook_has_five_stages():
    pb = load_playbook("industrial")
    assert pb.keys == ("lead", "cultivation", "evaluation", "negotiation", "contract")
    assert pb.won.key == "contract" and pb.won.probability == 100


@pytest.mark.parametrize("name", ["default", "industrial"])
def test_every_text_of_the_builtins_has_chinese(name):
    pb = load_playbook(name)
    texts = [pb.name, pb.lost_name, *pb.lost_reasons]
    for s in pb.stages:
        texts += [s.name, s.marker, *s.actions, *(c.text for c in s.characteristics)]
    for q in pb.bant:
        texts += [q.name, q.question]
    for r in pb.roles:
        texts += [r.name, r.description]
    for e in pb.evaluations:
        texts += [e.name, *(i.text for i in e.items)]
    assert all(t.zh for t in texts), [t.en for t in texts if not t.zh]
    assert check_playbook(builtin_path(name)) == []


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = builtin_path("default").read_text(encoding="utf-8")
    assert old in text
    p = tmp_path / "pb.yaml"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def test_unknown_bant_item_in_exit_criteria_is_located(tmp_path):
    p = _broken(tmp_path, "      bant: [need, budget]", "      bant: [need, budgett]")
    [problem] = check_playbook(p)
    assert problem.path == "stages[2].exit.bant[1]"
    assert problem.line == _line_of(p, "bant: [need, budgett]")
    assert "unknown BANT item 'budgett'" in problem.message and "known: budget, authority, need, timeline" in problem.message
    assert str(problem).startswith(f"pb.yaml:{problem.line}: stages[2].exit.bant[1]: ")


def test_every_problem_is_reported_at_once(tmp_path):
    p = _broken(tmp_path, "    probability: 40\n    forecast: pipeline", "    probability: 140\n    forecast: maybe")
    p.write_text(p.read_text().replace("characteristics: [has_management_need, no_good_solution]",
                                       "characteristics: [has_management_need, fit]")
                 .replace("    stall_days: 21\n    entry: {marker: true}\n",
                          "    stall_days: 0\n    entry: {marker: true}\n"))
    problems = check_playbook(p)
    got = {(pr.path, pr.message.split(" (")[0]) for pr in problems}
    assert ("stages[3].probability", "probability must be between 0 and 100") in got
    assert ("stages[3].forecast", "unknown forecast 'maybe'") in got
    assert ("stages[1].exit.characteristics[1]", "'fit' is not a characteristic of stage 'prospect'") in got
    assert ("stages[1].stall_days", "stall_days must be at least 1") in got
    assert all(pr.line for pr in problems)


def test_shape_errors_come_with_lines(tmp_path):
    p = _broken(tmp_path, "    probability: 0\n    forecast: pipeline\n    stall_days: 30\n",
                "    probability: 0\n    forecast: pipeline\n    stall_days: thirty\n    colour: red\n")
    problems = {pr.path: pr for pr in check_playbook(p)}
    assert problems["stages[0].stall_days"].line == _line_of(p, "stall_days: thirty")
    assert problems["stages[0].colour"].message == "unknown field"
    assert problems["stages[0].colour"].line == _line_of(p, "colour: red")


def test_semantic_rules(tmp_path):
    p = _broken(tmp_path, "  - key: prospect\n", "  - key: target\n")
    assert any(pr.message == "duplicate stage key 'target'" for pr in check_playbook(p))
    p = _broken(tmp_path, "    probability: 20\n", "    probability: 5\n")
    assert any("must not decrease" in pr.message for pr in check_playbook(p))
    p = _broken(tmp_path, "    pass_mark: 5\n", "    pass_mark: 6\n")
    assert any(pr.path == "evaluations[0].pass_mark" for pr in check_playbook(p))
    p = _broken(tmp_path, "    probability: 100\n", "    probability: 90\n")
    assert any("won stage" in pr.message for pr in check_playbook(p))
    p = _broken(tmp_path, "{key: clear_need,", "{key: has_management_need,")
    assert any("duplicate characteristic key 'has_management_need'" in pr.message for pr in check_playbook(p))
    p = _broken(tmp_path, "  - key: target\n", "  - key: lost\n")
    assert any("'lost' is the terminal outcome" in pr.message for pr in check_playbook(p))


def test_entry_criteria_rules(tmp_path):
    p = _broken(tmp_path, "      characteristics: [likely_in_90_days]", "      characteristics: [likely_in_9_days]")
    [problem] = check_playbook(p)
    assert problem.path == "stages[4].entry.characteristics[0]"
    assert "'likely_in_9_days' is not a characteristic or condition of stage 'shortlisted'" in problem.message
    p = _broken(tmp_path, "    stall_days: 30\n\n  - key: prospect", "    stall_days: 30\n    entry: {marker: true}\n\n"
                "  - key: prospect")
    assert [pr.path for pr in check_playbook(p)] == ["stages[0].entry"]
    p = _broken(tmp_path, "{key: contract_template,", "{key: marker_won,")
    assert any("kept for stage markers" in pr.message for pr in check_playbook(p))
    p = _broken(tmp_path, "      marker: true\n      characteristics: [likely_in_90_days]",
                "      marker: true\n      characteristics: [likely_in_90_days]\n      roles: [insider]")
    assert [pr.path for pr in check_playbook(p)] == ["stages[4].entry.roles[0]"]


def test_yaml_syntax_error_has_its_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("key: x\nname: {en: X\nstages: []\n")
    [problem] = check_playbook(p)
    assert problem.line == 3 and "not valid YAML" in problem.message


def test_load_raises_with_all_problems_and_missing_file_is_clear(tmp_path):
    p = _broken(tmp_path, "      bant: [need, budget]", "      bant: [nope, budgett]")
    with pytest.raises(PlaybookError) as err:
        load_playbook(p)
    assert len(err.value.problems) == 2
    assert "no such file" in str(check_playbook(tmp_path / "missing.yaml")[0])


def test_describe_in_both_languages():
    pb = load_playbook("default")
    en = describe_playbook(pb, "en")
    assert "3. Interested [interested]  20%" in en and "evaluation: Is it real?" in en
    zh = describe_playbook(pb, "zh")
    assert "意向客户" in zh and "出口条件" in zh and "评估：销售机会是不是虚的？" in zh


def test_scoring_and_numbers_sections_are_loaded_and_checked(tmp_path) -> None:
    from bot.playbooks.loader import builtin_path, check_playbook, load_playbook

    pb = load_playbook("default")
    assert (pb.scoring.bant, pb.scoring.recency, pb.numbers.activity.customers_per_deal) == (25, 10, 3)
    assert load_playbook("industrial").scoring.exit == 20  # the section is optional: defaults
    text = builtin_path("default").read_text(encoding="utf-8")
    text = text.replace("weights: {bant: 25,", "weights: {bant: 30,").replace("fresh_days: 14", "fresh_days: 90")
    text = text.replace("calls_per_visit: 2}", "calls_per_visit: 0}").replace("weights: {", "weights: {speed: 1, ")
    f = tmp_path / "tuned.yaml"
    f.write_text(text, encoding="utf-8")
    problems = [str(p) for p in check_playbook(f)]
    assert any("scoring.weights.speed: unknown field" in p for p in problems), problems
    f.write_text(text.replace("weights: {speed: 1, ", "weights: {"), encoding="utf-8")
    problems = [str(p) for p in check_playbook(f)]
    assert any("scoring.weights: the weights must add up to 100" in p and "= 105" in p for p in problems), problems
    assert any("scoring.stale_days: stale_days must be more than fresh_days (90)" in p for p in problems)
    assert any("numbers.activity_ratios.calls_per_visit: a ratio must be more than 0" in p for p in problems)
    line = text.splitlines().index(next(t for t in text.splitlines() if t.startswith("  weights:"))) + 1
    assert any(p.startswith(f"tuned.yaml:{line}: scoring.weights:") for p in problems), problems


def test_a_stage_without_stall_days_is_stalled_by_the_teams_p80(tmp_path) -> None:
    from bot.playbooks.loader import builtin_path, load_playbook

    text = builtin_path("default").read_text(encoding="utf-8").replace("    stall_days: 21\n", "", 1)
    f = tmp_path / "nostall.yaml"
    f.write_text(text, encoding="utf-8")
    pb = load_playbook(f)
    assert pb.stage("prospect").stall_days is None and pb.stage("interested").stall_days == 30
def test_playbook_check_reports_texts_missing_a_language_the_workspace_uses(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from bot.cli import main
    from bot.playbooks.loader import missing_languages

    for var in ("DATABASE_URL", "COACH_CONFIG", "COACH_LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    text = builtin_path("default").read_text(encoding="utf-8")
    text = text.replace('marker: {en: "There is a sales opportunity", zh: 有销售机会}',
                        'marker: {en: "There is a sales opportunity"}')
    assert "有销售机会" not in text
    path = tmp_path / "no-zh.yaml"
    path.write_text(text, encoding="utf-8")
    assert missing_languages(load_playbook(path), ["en"]) == []
    assert missing_languages(load_playbook(path), ["en", "zh"]) == [
        "stages[prospect].marker: no zh text (“There is a sales opportunity”)"]
    runner = CliRunner()
    assert runner.invoke(main, ["playbook", "check", str(path)]).exit_code == 0  # an English workspace
    r = runner.invoke(main, ["playbook", "check", str(path)], env={"COACH_LANGUAGE": "zh"})
    assert r.exit_code == 1 and "stages[prospect].marker: no zh text" in r.output and "1 text lacks" in r.output
    r = runner.invoke(main, ["playbook", "check", str(builtin_path("default")), "--lang", "zh"])
    assert r.exit_code == 0 and "languages en, zh" in r.output
