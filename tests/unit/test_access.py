from bot.domain.access import Viewer, can_act, can_override, can_see

ORG = {"top": None, "m1": "top", "m2": "top", "r1": "m1", "r2": "m1", "r3": "m2"}


def test_rep_sees_and_acts_only_on_own_deals():
    rep = Viewer("r1")
    assert can_see(rep, "r1", ORG) and can_act(rep, "r1", ORG)
    assert not can_see(rep, "r2", ORG)
    assert not can_see(rep, "m1", ORG)


def test_manager_sees_subtree_but_not_sibling_branch():
    m1 = Viewer("m1")
    assert can_see(m1, "r2", ORG)
    assert not can_see(m1, "r3", ORG)
    assert can_see(Viewer("top"), "r3", ORG)


def test_only_someone_above_the_owner_or_an_admin_overrides():
    assert can_override(Viewer("m1"), "r1", ORG)
    assert can_override(Viewer("top"), "r1", ORG)
    assert not can_override(Viewer("r1"), "r1", ORG)
    assert not can_override(Viewer("m2"), "r1", ORG)
    assert not can_override(Viewer("m1"), "m1", ORG)
    assert can_override(Viewer("r3", is_admin=True), "r1", ORG)
    assert can_see(Viewer("r3", is_admin=True), "r1", ORG)
