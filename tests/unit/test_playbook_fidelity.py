"""The default playbook says what the source says, item by item.

The source (``docs/source/001_funnel_stages.txt``) is the text extracted from a
slide deck: each slide's phrases separated by commas, numbers and brackets
split off with commas of their own. These tests read the stage slides, the
four evaluation tables and the four buying-role slides out of it and compare
the playbook's Chinese with them, so a reworded or dropped phrase fails CI.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.playbooks.loader import load_playbook

ROOT = Path(__file__).resolve().parents[2]
SOURCE = (ROOT / "docs/source/001_funnel_stages.txt").read_text(encoding="utf-8")
KOTLER_SOURCE = (ROOT / "docs/source/004_industrial_stages.txt").read_text(encoding="utf-8")
PB = load_playbook("default")

NUMERALS = "一二三四五六七"
FULLWIDTH = str.maketrans({"（": "(", "）": ")", "；": ";", "：": ":", "，": ",", "？": "?"})


def squeeze(text: str) -> str:
    """Text with the deck's split-off commas closed up: only the words are compared."""
    return re.sub(r"[,;、\s]", "", text.translate(FULLWIDTH))


def stage_slide(n: int, name: str) -> tuple[str, str, str]:
    """(marker, characteristics, actions) of the n-th stage's definition slide."""
    head = f"{NUMERALS[n]}、{name}阶段,标志,"
    start = SOURCE.index(head) + len(head)
    end = SOURCE.index(f",{NUMERALS[n]}、{name}阶段标志", start)
    marker, rest = SOURCE[start:end].split(",特征,", 1)
    chars, actions = rest.split(",动作,", 1)
    return marker, chars, actions


@pytest.mark.parametrize("n", range(7))
def test_each_stage_marker_characteristics_and_actions_are_the_sources(n):
    stage = PB.stages[n]
    marker, chars, actions = stage_slide(n, stage.name.zh or "")
    assert squeeze(stage.marker.zh or "") == squeeze(marker)
    # Characteristics: the slide separates them with ";" ("无" when there are none).
    source_chars = [] if chars == "无" else chars.split(";")
    ours = [c.text.zh or "" for c in stage.characteristics]
    assert squeeze("".join(ours)) == squeeze("".join(source_chars)), stage.key
    for c in ours:
        assert squeeze(c) in squeeze(chars), c
    # Actions: every phrase, in the slide's order, nothing dropped; added only what the source's overview
    # of all the actions has for the stage beyond its slide (ADDED_ACTIONS).
    added = ADDED_ACTIONS.get(stage.key, {})
    ours_actions = [a.zh or "" for a in stage.actions if (a.zh or "") not in added]
    assert squeeze("".join(ours_actions)) == squeeze(actions), stage.key
    for a in ours_actions:
        assert squeeze(a) in squeeze(actions), a
    for a, after in added.items():
        assert a in [x.zh for x in stage.actions]
        assert f"{after},-,{a}" in SOURCE, a  # where the overview lists it


# Actions the stage's slide leaves out and the source's overview of every stage's actions lists:
# Project approved writes the sales plan (编写销售计划), after setting the strategies.
ADDED_ACTIONS = {"project": {"编写销售计划": "制定销售机会竞争策略及客户决策者的关系策略"}}


def test_negotiation_entry_conditions_are_the_sources_and_gate_entry():
    head = "进入商务谈判阶段的条件,"
    start = SOURCE.index(head) + len(head)
    end = SOURCE.index(",六、谈判客户阶段,进入商务谈判阶段的条件", start)
    stage = PB.stage("negotiation")
    assert len(stage.conditions) == 7
    assert squeeze("".join(c.text.zh or "" for c in stage.conditions)) == squeeze(SOURCE[start:end])
    assert set(stage.entry.characteristics) == {c.key for c in stage.conditions}
    assert stage.entry.marker


def evaluation_table(title: str) -> tuple[list[str], list[str]]:
    """(items, bars) of an evaluation table: "title,?,1..5,items…,结论,:,bars…,+,-"."""
    m = re.search(re.escape(title) + r",\?,(?:\d+,)+(?P<items>.*?),结论,:,(?P<bars>.*?),\+,-", SOURCE)
    assert m, title
    items: list[str] = []
    for cell in m.group("items").split(","):
        if cell == ".":
            continue
        if items and items[-1].endswith("的"):  # a cell wrapped onto a second line
            items[-1] += cell
        else:
            items.append(cell)
    bars = re.sub(r",?/,?", "/", m.group("bars")).split(",")
    if len(items) == 4:
        # The competitiveness tables print their fifth row after the "用友 | 竞争对手" columns.
        after = SOURCE[m.end():].split("竞争对手,", 1)[1].split(",", 1)[0]
        row = {"我们能够与其它厂家竞争吗": 1, "我们真正赢的把握如何": 4}[title]
        items.insert(row, after.replace("厉害", "利害"))  # the deck spells 利害 once, 厉害 elsewhere
    return items, bars


@pytest.mark.parametrize(("key", "title"), [
    ("is_real", "销售机会是不是虚的"),
    ("worth_winning", "值得赢吗"),
    ("can_compete", "我们能够与其它厂家竞争吗"),
    ("can_win", "我们真正赢的把握如何"),
])
def test_each_evaluation_item_and_its_bar_are_the_sources(key, title):
    ev = PB.evaluation(key)
    items, bars = evaluation_table(title)
    assert (ev.name.zh or "").translate(FULLWIDTH) == f"{title}?"
    assert len(ev.items) == len(items) == len(bars) == 5
    for item, name, bar in zip(ev.items, items, bars, strict=True):
        assert (item.text.zh or "").translate(FULLWIDTH).split(":") == [name, bar], item.key
        if item.question:  # the question the source asks under the item, in its words
            assert all(squeeze(q) in squeeze(SOURCE) for q in re.split(r"(?<=？)", item.question.zh or "") if q), item.key
    assert ev.pass_mark == 5


def test_the_items_whose_bar_alone_misleads_show_the_sources_question():
    questions = {i.key: i.question for ev in PB.evaluations for i in ev.items if i.question}
    assert set(questions) == {"risk_acceptable", "cultures_fit", "interests_favour"}
    assert questions["risk_acceptable"].zh == "我们的方案会不会导致失败？是否会由于客户方的原因导致失败？"


def test_the_industrial_need_cultivation_builds_the_relationship_and_wants_the_funds():
    stage = next(s for s in load_playbook("industrial").stages if s.name.zh == "需求培育")
    assert "建立关系" in [a.zh for a in stage.actions]
    assert "款项已落实" in [c.text.zh for c in stage.characteristics]
    assert "落實款項" in KOTLER_SOURCE and "錢不到位也是不成" in KOTLER_SOURCE


ROLE_HEADS = {
    "economic_buyer": "以经济效益为出发点的",
    "technical_buyer": "以技术把关为出发点的",
    "user": "以用户运作为出发点的",
    "coach": "以双方,(,厂家与客户,),连络沟通为出发点的",
}


def phrases(text: str) -> list[str]:
    """A role slide's phrases: split at punctuation, labels and English names dropped."""
    text = re.sub(r",?([()/]),?", r"\1", text.translate(FULLWIDTH))
    parts = re.split(r"[,;:。\-]", text)
    return [p.strip() for p in parts if p.strip() and p.strip() not in ("职责", "关注事项")
            and not re.fullmatch(r"[A-Za-z ]+", p.strip())]


@pytest.mark.parametrize("key", list(ROLE_HEADS))
def test_each_buying_role_definition_is_the_sources_whole(key):
    start = SOURCE.index(ROLE_HEADS[key])
    ends = [SOURCE.find(h, start + 1) for h in (*ROLE_HEADS.values(), "影响企业采购决定的四种角色")]
    end = min(e for e in ends if e > start)
    source = phrases(SOURCE[start:end])
    assert phrases(PB.role(key).description.zh or "") == source
    assert len(source) >= 6


def test_roles_allow_as_many_people_as_the_source_says():
    assert not PB.role("economic_buyer").multiple  # 通常一个项目只有一位
    assert PB.role("technical_buyer").multiple and PB.role("user").multiple  # 有多位
    assert PB.role("coach").multiple  # 至少要安排或培养一位: at least one


def test_can_we_really_win_is_assessed_at_project_approved_with_the_others():
    assert PB.stage("project").exit.evaluations == ("worth_winning", "can_compete", "can_win")
    assert all("can_win" not in s.exit.evaluations for s in PB.stages if s.key != "project")


def test_entry_gates_follow_the_source():
    assert all(s.entry.marker for s in PB.stages[1:-1])
    assert "likely_in_90_days" in PB.stage("shortlisted").entry.characteristics
    assert set(PB.won.entry.characteristics) == {"contract_signed", "first_payment", "order_shipped"}
    assert not PB.first.characteristics and PB.first.exit.empty  # Target: 特征 无


# Kotler's eight stages as the industrial source names them (Traditional there, Simplified here).
TRADITIONAL = str.maketrans("發現確產規尋應詢報價選擇購買則評線認談簽訂務", "发现确产规寻应询报价选择购买则评线认谈签订务")


def test_industrial_stages_carry_the_sources_names_for_kotlers_buying_stages():
    sentence = KOTLER_SOURCE.split("八個階段:", 1)[1].split("。", 1)[0].translate(TRADITIONAL)
    kotler = re.split(r"[、,]", sentence)
    assert len(kotler) == 8
    pb = load_playbook("industrial")
    names = [n for s in pb.stages for n in (s.buyer_stage.zh or "").split("、")]  # type: ignore[union-attr]
    assert names == kotler  # every buying stage, in order, each in exactly one of our stages
    stage_names = KOTLER_SOURCE.split("分成以下幾個階段:", 1)[1].split("五個階段", 1)[0]
    assert [s.name.zh for s in pb.stages] == [n.strip() for n in re.split(r"[、 ]+", stage_names.translate(TRADITIONAL)) if n.strip()]
    assert all("（" not in (s.marker.zh or "") and "buyer:" not in s.marker.en for s in pb.stages)
