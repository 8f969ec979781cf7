import pytest

from bot.domain.org import OrgError, chain_of_command, find_cycles, is_within, subtree, tiers

# top -> (vp_a -> (m1 -> r1, r2), m2 -> r3), vp_b -> r4 ; loner has no reports or manager
ORG = {
    "top": None,
    "vp_a": "top",
    "vp_b": "top",
    "m1": "vp_a",
    "m2": "vp_a",
    "r1": "m1",
    "r2": "m1",
    "r3": "m2",
    "r4": "vp_b",
    "loner": None,
}


def test_tier_is_one_plus_the_highest_report_tier():
    t = tiers(ORG)
    assert {k: t[k] for k in ("r1", "r4", "loner")} == {"r1": 0, "r4": 0, "loner": 0}
    assert t["m1"] == t["m2"] == 1
    assert t["vp_b"] == 1  # manages reps directly: a first-line manager, whatever its place
    assert t["vp_a"] == 2
    assert t["top"] == 3


def test_tiers_of_a_very_deep_chain_do_not_recurse():
    chain = {f"p{i}": (f"p{i - 1}" if i else None) for i in range(5000)}
    t = tiers(chain)
    assert t["p0"] == 4999 and t["p4999"] == 0


def test_cycles_are_found_and_refused():
    bad = {"a": "b", "b": "c", "c": "a", "d": "a", "e": None}
    assert find_cycles(bad) == [["a", "b", "c"]]
    with pytest.raises(OrgError):
        tiers(bad)
    assert find_cycles(ORG) == []
    assert find_cycles({"x": "x"}) == [["x"]]


def test_subtree_and_chain_of_command():
    assert sorted(subtree(ORG, "vp_a")) == ["m1", "m2", "r1", "r2", "r3", "vp_a"]
    assert subtree(ORG, "r1") == ["r1"]
    assert chain_of_command(ORG, "r3") == ["m2", "vp_a", "top"]
    assert is_within(ORG, "vp_a", "r2") and is_within(ORG, "r2", "r2")
    assert not is_within(ORG, "vp_b", "r2")
    assert not is_within(ORG, "m1", "vp_a")
