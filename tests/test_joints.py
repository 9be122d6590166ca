"""Joint sets: the orders of DATA_FORMATS.md section 2, flips and name mapping."""

from __future__ import annotations

import numpy as np
import pytest

from convnextpose.joints import JOINT_SETS, get_joint_set, map_joints, mapping_indices


def test_sizes_and_roots():
    sizes = {"human36m": 18, "muco": 21, "mupots": 17, "mpii": 16, "coco": 19}
    assert {name: len(s) for name, s in JOINT_SETS.items()} == sizes
    assert get_joint_set("h36m").names[0] == "Pelvis" and get_joint_set("h36m").names[-1] == "Thorax"
    assert get_joint_set("muco").root_index == 14
    assert get_joint_set("mupots").names == get_joint_set("muco").names[:17]


@pytest.mark.parametrize("name", sorted(JOINT_SETS))
def test_flip_swaps_left_and_right(name):
    joint_set = JOINT_SETS[name]
    perm = joint_set.flip_permutation
    assert sorted(perm) == list(range(len(joint_set)))
    assert (perm[perm] == np.arange(len(joint_set))).all()
    for i, j in enumerate(perm):
        a, b = joint_set.names[i], joint_set.names[j]
        if a.startswith("L_"):
            assert b == "R_" + a[2:]
        elif not a.startswith("R_"):
            assert i == j


def test_skeleton_is_a_tree_over_named_joints():
    for joint_set in JOINT_SETS.values():
        touched = {i for bone in joint_set.skeleton for i in bone}
        assert len(joint_set.skeleton) == len(touched) - 1  # connected tree


def test_mapping_by_name():
    idx = mapping_indices("coco", "human36m")
    h36m, coco = get_joint_set("human36m"), get_joint_set("coco")
    for t, s in enumerate(idx):
        if s >= 0:
            assert coco.names[s] == h36m.names[t]
        else:
            assert h36m.names[t] not in coco.names
    values = np.arange(19 * 3, dtype=float).reshape(19, 3)
    mapped, present = map_joints(values, "coco", "human36m", fill=-1)
    assert mapped.shape == (18, 3)
    assert (mapped[~present] == -1).all()
    assert (mapped[h36m.index("L_Wrist")] == values[coco.index("L_Wrist")]).all()
    vis, _ = map_joints(np.ones(19), "coco", "human36m")
    assert vis.shape == (18,) and vis.sum() == present.sum()


def test_unknown_names_are_reported():
    with pytest.raises(ValueError, match="unknown joint set"):
        get_joint_set("panoptic")
    with pytest.raises(ValueError, match="Tail"):
        get_joint_set("mpii").index("Tail")
