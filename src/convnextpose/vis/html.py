"""A self-contained interactive 3D viewer: one HTML file, inline JavaScript, a canvas, no CDN.

Drag to rotate, scroll to zoom, double-click to reset; for sequences a slider and a play button
step through the frames. It works offline from ``file://`` in any current browser.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..joints import JointSet, get_joint_set
from .draw2d import SIDE_COLORS, bone_side

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>
  body { margin: 0; font: 14px sans-serif; background: #1e1f24; color: #ddd; }
  #bar { padding: 6px 10px; display: flex; gap: 12px; align-items: center; }
  #view { display: block; width: 100vw; height: calc(100vh - 40px); cursor: grab; }
  #frame { flex: 1; }
  .key span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; }
</style>
</head>
<body>
<div id="bar">
  <b>__TITLE__</b>
  <button id="play" type="button">play</button>
  <input id="frame" type="range" min="0" max="0" value="0">
  <span id="label"></span>
  <span class="key"><span style="background:__LEFT__"></span>left<span style="background:__RIGHT__"></span>right</span>
</div>
<canvas id="view"></canvas>
<script id="pose-data" type="application/json">__DATA__</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("pose-data").textContent);
const canvas = document.getElementById("view");
const ctx = canvas.getContext("2d");
const slider = document.getElementById("frame");
const label = document.getElementById("label");
const playButton = document.getElementById("play");
slider.max = String(data.frames.length - 1);
if (data.frames.length < 2) { slider.style.visibility = "hidden"; playButton.style.visibility = "hidden"; }
let yaw = 0.6, pitch = 0.25, zoom = 1.0, frame = 0, timer = null;
// Camera frame (X right, Y down, Z forward) -> viewer frame (x right, y up, z towards the viewer).
function toView(p) { return [p[0] - data.center[0], -(p[1] - data.center[1]), -(p[2] - data.center[2])]; }
function project(p, w, h) {
  const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
  const x1 = cy * p[0] + sy * p[2], z1 = -sy * p[0] + cy * p[2];
  const y2 = cp * p[1] - sp * z1, z2 = sp * p[1] + cp * z1;
  const dist = data.radius * 6.0;
  // A point one scene radius from the centre lands 0.35 of the canvas size from the middle.
  const f = Math.min(w, h) * 0.35 * zoom * dist / ((dist - z2) * data.radius);
  return [w / 2 + x1 * f, h / 2 - y2 * f, z2];
}
function draw() {
  const w = canvas.width = canvas.clientWidth * devicePixelRatio;
  const h = canvas.height = canvas.clientHeight * devicePixelRatio;
  ctx.fillStyle = "#1e1f24"; ctx.fillRect(0, 0, w, h);
  // Ground grid under the lowest joint, for orientation.
  ctx.strokeStyle = "#3a3c44"; ctx.lineWidth = 1;
  const g = data.radius, step = g / 4, floor = data.floor;
  for (let i = -4; i <= 4; i++) {
    for (const [a, b] of [[[i * step, floor, -g], [i * step, floor, g]], [[-g, floor, i * step], [g, floor, i * step]]]) {
      const pa = project(a, w, h), pb = project(b, w, h);
      ctx.beginPath(); ctx.moveTo(pa[0], pa[1]); ctx.lineTo(pb[0], pb[1]); ctx.stroke();
    }
  }
  const segments = [];
  for (const person of data.frames[frame].people) {
    const pts = person.joints.map(p => (p === null ? null : project(toView(p), w, h)));
    for (const [a, b, color] of data.bones) {
      if (pts[a] && pts[b]) segments.push([pts[a], pts[b], color]);
    }
    for (const p of pts) if (p) segments.push([p, p, "#f0f0f0"]);
  }
  segments.sort((s, t) => (s[0][2] + s[1][2]) - (t[0][2] + t[1][2]));  // far first
  ctx.lineCap = "round";
  for (const [a, b, color] of segments) {
    ctx.strokeStyle = color; ctx.lineWidth = (a === b ? 7 : 5) * devicePixelRatio;
    ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0] + 0.01, b[1]); ctx.stroke();
  }
  const f = data.frames[frame];
  label.textContent = f.label + " (" + f.people.length + " people)";
}
let dragging = null;
canvas.addEventListener("mousedown", e => { dragging = [e.clientX, e.clientY]; canvas.style.cursor = "grabbing"; });
window.addEventListener("mouseup", () => { dragging = null; canvas.style.cursor = "grab"; });
window.addEventListener("mousemove", e => {
  if (!dragging) return;
  yaw += (e.clientX - dragging[0]) * 0.01;
  pitch = Math.max(-1.5, Math.min(1.5, pitch + (e.clientY - dragging[1]) * 0.01));
  dragging = [e.clientX, e.clientY]; draw();
});
canvas.addEventListener("wheel", e => { e.preventDefault(); zoom *= Math.exp(-e.deltaY * 0.001); draw(); }, { passive: false });
canvas.addEventListener("dblclick", () => { yaw = 0.6; pitch = 0.25; zoom = 1.0; draw(); });
slider.addEventListener("input", () => { frame = Number(slider.value); draw(); });
playButton.addEventListener("click", () => {
  if (timer) { clearInterval(timer); timer = null; playButton.textContent = "play"; return; }
  playButton.textContent = "pause";
  timer = setInterval(() => { frame = (frame + 1) % data.frames.length; slider.value = String(frame); draw(); },
                      1000 / data.fps);
});
window.addEventListener("resize", draw);
draw();
</script>
</body>
</html>
"""


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _joints_json(points: np.ndarray) -> list[list[float] | None]:
    return [None if not np.isfinite(p).all() else [round(float(v), 1) for v in p] for p in points]


def viewer_data(
    frames: Sequence[Sequence[Any]],
    joint_set: str | JointSet | None = None,
    frame: str = "camera",
    labels: Sequence[str] | None = None,
    fps: float = 30.0,
) -> dict[str, Any]:
    """The JSON the viewer reads: bones with colours, and per frame the people's joints (mm)."""
    if frame not in ("camera", "root"):
        raise ValueError(f"frame must be 'camera' or 'root', got {frame!r}")
    carried = None
    out_frames = []
    for f, people in enumerate(frames):
        entries = []
        for person in people:
            if hasattr(person, "joints_cam"):
                carried = person.joint_set
                points = person.joints_rel if frame == "root" else person.joints_cam
            else:
                points = person
            entries.append({"joints": _joints_json(np.asarray(points, dtype=np.float64))})
        out_frames.append({"label": labels[f] if labels else f"frame {f}", "people": entries})
    joint_set = get_joint_set(joint_set or carried or "human36m")
    everything = [p for fr in out_frames for person in fr["people"] for p in person["joints"] if p is not None]
    pts = np.array(everything, dtype=np.float64).reshape(-1, 3)
    if len(pts):
        low, high = pts.min(axis=0), pts.max(axis=0)
        center = (low + high) / 2.0
        radius = max(float((high - low).max()) / 2.0, 300.0)
        floor = -(high[1] - center[1])  # lowest point (largest camera Y) in the viewer's up axis
    else:
        center, radius, floor = np.zeros(3), 1000.0, -1000.0
    bones = [[a, b, _hex(SIDE_COLORS[bone_side(joint_set, (a, b))])] for a, b in joint_set.skeleton]
    return {
        "joint_set": joint_set.name,
        "joint_names": list(joint_set.names),
        "bones": bones,
        "center": [float(c) for c in center],
        "radius": float(radius) if math.isfinite(radius) else 1000.0,
        "floor": float(floor),
        "fps": float(fps),
        "frames": out_frames,
    }


def write_html_viewer(
    path: str | os.PathLike,
    poses: Sequence[Any] | Sequence[Sequence[Any]],
    joint_set: str | JointSet | None = None,
    frame: str = "camera",
    title: str = "ConvNeXtPose 3D viewer",
    sequence: bool = False,
    labels: Sequence[str] | None = None,
    fps: float = 30.0,
) -> Path:
    """Write a standalone HTML page showing 3D skeletons you can rotate and zoom.

    Args:
        path: output ``.html`` file.
        poses: one image's people (PersonPose objects or (J, 3) mm arrays), or with
            ``sequence=True`` a list of such lists, one per video frame.
        joint_set: for arrays (default human36m); taken from PersonPose objects.
        frame: ``"camera"`` or ``"root"`` (root-relative) coordinates.
        title: page title.
        labels: per-frame captions.
        fps: playback rate of sequences.
    """
    frames = (list(poses) if sequence else [list(poses)]) or [[]]
    data = viewer_data(frames, joint_set, frame, labels, fps)
    # "</" would end the <script> element early; JSON allows the escaped form.
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    page = (
        _TEMPLATE.replace("__TITLE__", html.escape(title))
        .replace("__LEFT__", _hex(SIDE_COLORS["left"]))
        .replace("__RIGHT__", _hex(SIDE_COLORS["right"]))
        .replace("__DATA__", payload)
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
