// A tiny canvas renderer for 3D skeletons, turning slowly about the vertical axis.
// Poses are arrays of [x, y, z] (camera frame: x right, y down, z forward) or null for a missing joint.
"use strict";

(function () {
  const PITCH = (18 * Math.PI) / 180; // look slightly down on the skeleton

  function finite(p) {
    return p && p.every((v) => v !== null && Number.isFinite(v));
  }

  // Centre (root joint, else mean) and radius of all given poses, for a shared fit.
  function frameOf(poses, root) {
    let radius = 0;
    const centres = poses.map((pose) => {
      if (finite(pose[root])) return pose[root];
      const pts = pose.filter(finite);
      if (!pts.length) return [0, 0, 0];
      return [0, 1, 2].map((k) => pts.reduce((s, p) => s + p[k], 0) / pts.length);
    });
    poses.forEach((pose, i) => {
      pose.filter(finite).forEach((p) => {
        const d = Math.hypot(p[0] - centres[i][0], p[1] - centres[i][1], p[2] - centres[i][2]);
        radius = Math.max(radius, d);
      });
    });
    return { centres, radius: radius || 1 };
  }

  class Skeleton3D {
    constructor(canvas, skeleton, sides, root) {
      this.canvas = canvas;
      this.skeleton = skeleton;
      this.sides = sides;
      this.root = root;
      this.layers = []; // {pose, colour, width}
      this.yaw = 0;
      this.spin = true;
      this._last = null;
      const tick = (t) => {
        if (this.spin && this._last !== null) this.yaw += ((t - this._last) / 1000) * 0.6;
        this._last = t;
        this.draw();
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }

    setLayers(layers) {
      this.layers = layers.filter((l) => l.pose && l.pose.length);
    }

    project(p, centre, scale) {
      const x = p[0] - centre[0];
      const y = p[1] - centre[1];
      const z = p[2] - centre[2];
      const c = Math.cos(this.yaw);
      const s = Math.sin(this.yaw);
      const xr = c * x - s * z;
      const zr = s * x + c * z;
      const yr = Math.cos(PITCH) * y - Math.sin(PITCH) * zr;
      const w = this.canvas.width;
      const h = this.canvas.height;
      return [w / 2 + xr * scale, h / 2 + yr * scale];
    }

    draw() {
      const ctx = this.canvas.getContext("2d");
      const w = this.canvas.width;
      const h = this.canvas.height;
      ctx.clearRect(0, 0, w, h);
      if (!this.layers.length) {
        ctx.fillStyle = "#8b949e";
        ctx.font = "14px system-ui, sans-serif";
        ctx.textAlign = "center";
        ctx.fillText("3D pose appears here", w / 2, h / 2);
        return;
      }
      const { centres, radius } = frameOf(
        this.layers.map((l) => l.pose),
        this.root,
      );
      const scale = (0.42 * Math.min(w, h)) / radius;
      // Floor ring under the lowest joint of the first pose.
      const first = this.layers[0].pose.filter(finite);
      const floorY = Math.max(...first.map((p) => p[1]));
      ctx.strokeStyle = "rgba(139, 148, 158, 0.35)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let i = 0; i <= 48; i++) {
        const a = (i / 48) * 2 * Math.PI;
        const r = radius * 0.6;
        const c0 = centres[0];
        const q = this.project([c0[0] + r * Math.cos(a), floorY, c0[2] + r * Math.sin(a)], c0, scale);
        if (i === 0) ctx.moveTo(q[0], q[1]);
        else ctx.lineTo(q[0], q[1]);
      }
      ctx.stroke();
      this.layers.forEach((layer, i) => {
        const pose = layer.pose;
        ctx.lineCap = "round";
        for (const [a, b] of this.skeleton) {
          if (!finite(pose[a]) || !finite(pose[b])) continue;
          const pa = this.project(pose[a], centres[i], scale);
          const pb = this.project(pose[b], centres[i], scale);
          const side = this.sides[b] === "centre" ? this.sides[a] : this.sides[b];
          ctx.strokeStyle = layer.colour;
          ctx.globalAlpha = side === "right" ? 0.65 : 1.0; // the right side a little fainter
          ctx.lineWidth = layer.width;
          ctx.beginPath();
          ctx.moveTo(pa[0], pa[1]);
          ctx.lineTo(pb[0], pb[1]);
          ctx.stroke();
        }
        ctx.globalAlpha = 1.0;
        ctx.fillStyle = layer.colour;
        pose.forEach((p) => {
          if (!finite(p)) return;
          const q = this.project(p, centres[i], scale);
          ctx.beginPath();
          ctx.arc(q[0], q[1], layer.width * 0.8, 0, 2 * Math.PI);
          ctx.fill();
        });
      });
    }
  }

  window.Skeleton3D = Skeleton3D;
})();
