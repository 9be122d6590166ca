"""Visualisation: side colours in 2D, equal-axis 3D plots, an offline HTML viewer."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from convnextpose.joints import get_joint_set
from convnextpose.vis import (
    SIDE_COLORS,
    draw_skeleton,
    plot_poses_3d,
    render_poses_3d,
    save_plot_3d,
    viewer_data,
    write_html_viewer,
)

H36M = get_joint_set("human36m")


def standing_pose(offset=(0.0, 0.0, 4000.0)) -> np.ndarray:
    """A rough upright Human3.6M pose in camera mm (Y down), pelvis at ``offset``."""
    rel = {
        "Pelvis": (0, 0, 0), "R_Hip": (-120, 0, 0), "R_Knee": (-130, 420, 20), "R_Ankle": (-130, 840, 0),
        "L_Hip": (120, 0, 0), "L_Knee": (130, 420, 20), "L_Ankle": (130, 840, 0), "Torso": (0, -230, 0),
        "Neck": (0, -480, 0), "Nose": (0, -560, -80), "Head": (0, -650, 0), "L_Shoulder": (170, -450, 0),
        "L_Elbow": (200, -200, 0), "L_Wrist": (210, 40, 0), "R_Shoulder": (-170, -450, 0),
        "R_Elbow": (-200, -200, 0), "R_Wrist": (-210, 40, 0), "Thorax": (0, -450, 0),
    }  # fmt: skip
    return np.array([rel[n] for n in H36M.names], dtype=np.float64) + np.asarray(offset)


def test_skeleton_is_coloured_by_side():
    image = np.zeros((200, 200, 3), np.uint8)
    joints = np.full((18, 2), np.nan)
    joints[H36M.index("L_Shoulder")] = (150, 50)
    joints[H36M.index("L_Elbow")] = (150, 150)
    joints[H36M.index("R_Shoulder")] = (50, 50)
    joints[H36M.index("R_Elbow")] = (50, 150)
    out = draw_skeleton(image, joints, H36M, thickness=3)
    assert out is image
    np.testing.assert_array_equal(image[100, 150], SIDE_COLORS["left"])
    np.testing.assert_array_equal(image[100, 50], SIDE_COLORS["right"])
    # Missing joints draw nothing: the centre column between the limbs stays black.
    assert not image[:, 90:110].any()


def test_low_confidence_joints_are_hidden():
    joints = np.array([[20 + 8 * i, 100.0] for i in range(18)])
    confidence = np.zeros(18)
    blank = draw_skeleton(np.zeros((200, 200, 3), np.uint8), joints, H36M, confidence, min_confidence=0.5)
    assert not blank.any()
    shown = draw_skeleton(np.zeros((200, 200, 3), np.uint8), joints, H36M, confidence + 1, min_confidence=0.5)
    assert shown.any()
    with pytest.raises(ValueError, match=r"\(18, 2\)"):
        draw_skeleton(np.zeros((10, 10, 3), np.uint8), joints[:5], H36M)


def test_3d_plot_has_equal_axes_and_upright_people(tmp_path):
    poses = [standing_pose(), standing_pose((1500.0, 0.0, 6000.0))]
    fig = plot_poses_3d(poses, "human36m", frame="camera")
    ax = fig.axes[0]
    spans = [np.diff(ax.get_xlim())[0], np.diff(ax.get_ylim())[0], np.diff(ax.get_zlim())[0]]
    np.testing.assert_allclose(spans, spans[0])
    # Plot z is -Y: the head is above the ankles.
    lines = ax.get_lines()
    assert len(lines) == 2 * len(H36M.skeleton)
    zmax = max(line.get_data_3d()[2].max() for line in lines)
    assert zmax == pytest.approx(650.0)
    path = save_plot_3d(tmp_path / "p.png", poses, frame="root")
    assert path.stat().st_size > 5000 and path.read_bytes()[:4] == b"\x89PNG"
    rgb = render_poses_3d(poses[0], size=(3, 3), dpi=50)
    assert rgb.shape == (150, 150, 3) and rgb.dtype == np.uint8
    with pytest.raises(ValueError, match="frame"):
        plot_poses_3d(poses, frame="world")


def test_html_viewer_is_self_contained_and_carries_the_poses(tmp_path):
    poses = [standing_pose(), standing_pose((800.0, 0.0, 5000.0))]
    poses[1][3] = np.nan
    path = write_html_viewer(tmp_path / "v.html", poses, "human36m", title="two <people>")
    text = path.read_text()
    assert "<canvas" in text and "two &lt;people&gt;" in text
    # Nothing fetched from the network: no external scripts, styles or URLs at all.
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|https?://", text)
    data = json.loads(re.search(r'<script id="pose-data" type="application/json">(.*?)</script>', text, re.S).group(1))
    assert len(data["frames"]) == 1 and len(data["frames"][0]["people"]) == 2
    joints = data["frames"][0]["people"][1]["joints"]
    assert joints[3] is None and joints[0] == [800.0, 0.0, 5000.0]
    assert len(data["bones"]) == len(H36M.skeleton)


def test_html_viewer_sequences_and_script_injection(tmp_path):
    frames = [[standing_pose((float(i), 0.0, 4000.0))] for i in range(5)]
    data = viewer_data(frames, "human36m", labels=[f"t{i}" for i in range(5)])
    assert [f["label"] for f in data["frames"]] == ["t0", "t1", "t2", "t3", "t4"]
    path = write_html_viewer(tmp_path / "seq.html", frames, "human36m", sequence=True, labels=["</script>"] * 5)
    text = path.read_text()
    assert text.count("</script>") == 2  # only the two real closing tags
    empty = write_html_viewer(tmp_path / "empty.html", [], "human36m")
    assert '"frames":[{"label":"frame 0","people":[]}]' in empty.read_text()


def test_html_viewer_script_parses(tmp_path):
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    text = write_html_viewer(tmp_path / "v.html", [standing_pose()], "human36m").read_text()
    script = tmp_path / "viewer.js"
    script.write_text(re.search(r"<script>(.*?)</script>", text, re.S).group(1))
    result = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
