// The fitness page: upload a trainer photo, then stream camera frames to the server and show
// the score, cues, hold timer, the live skeleton and both poses in 3D. No external resources.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const state = {
    config: null,
    sessionId: null,
    hasReference: false,
    referencePose3d: null,
    running: false,
    cameraRun: 0, // changes whenever the camera starts or stops
    inFlight: false, // at most one frame on its way: a slow server means skipped frames, not a queue
    stream: null,
    framesSent: 0,
    framesSkipped: 0,
    responses: 0,
    lastResult: null,
    timestamps: [],
  };
  window.fitnessApp = state; // read by the browser test
  let view3d = null;

  function setStatus(id, text, isError) {
    const el = $(id);
    el.textContent = text;
    el.classList.toggle("error", Boolean(isError));
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      if (body && body.detail) return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch (e) {
      /* not JSON */
    }
    return `${response.status} ${response.statusText}`;
  }

  async function newSession() {
    const response = await fetch("/api/sessions", { method: "POST" });
    if (!response.ok) throw new Error(await errorText(response));
    state.sessionId = (await response.json()).session_id;
    state.hasReference = false;
  }

  // POST to a session URL; if the session expired (404), start a new one and retry once.
  async function sessionPost(path, body, contentType) {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!state.sessionId) await newSession();
      const headers = contentType ? { "Content-Type": contentType } : {};
      const response = await fetch(`/api/sessions/${state.sessionId}/${path}`, { method: "POST", body, headers });
      if (response.status === 404 && attempt === 0) {
        state.sessionId = null;
        if (!path.startsWith("reference")) return response; // the reference is gone with the session
        continue;
      }
      return response;
    }
    return null;
  }

  // ---------------------------------------------------------------- drawing

  const COLOURS = { left: "#1f6feb", right: "#f06a1d", centre: "#c9d1d9" };

  function limbColour(a, b, limbErrors) {
    if (!limbErrors) return null;
    const tol = state.config.tolerance_deg;
    for (const [name, pair] of Object.entries(state.config.limbs)) {
      if ((pair[0] === a && pair[1] === b) || (pair[0] === b && pair[1] === a)) {
        const err = limbErrors[name];
        if (err === undefined || err === null) return null;
        return err <= tol ? "#2ea043" : err <= 2 * tol ? "#d98a00" : "#f85149";
      }
    }
    return null;
  }

  function drawSkeleton2d(canvas, width, height, joints, confidence, limbErrors, background) {
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    if (background) ctx.drawImage(background, 0, 0, width, height);
    if (!joints) return;
    const minConf = 0.0;
    const lw = Math.max(2, Math.round(Math.min(width, height) / 90));
    ctx.lineCap = "round";
    for (const [a, b] of state.config.skeleton) {
      const pa = joints[a];
      const pb = joints[b];
      if (!pa || !pb || pa[0] === null || pb[0] === null) continue;
      if (confidence && (confidence[a] < minConf || confidence[b] < minConf)) continue;
      const side = state.config.sides[b] === "centre" ? state.config.sides[a] : state.config.sides[b];
      ctx.strokeStyle = limbColour(a, b, limbErrors) || COLOURS[side];
      ctx.lineWidth = lw;
      ctx.beginPath();
      ctx.moveTo(pa[0], pa[1]);
      ctx.lineTo(pb[0], pb[1]);
      ctx.stroke();
    }
    ctx.fillStyle = "#ffffff";
    joints.forEach((p) => {
      if (!p || p[0] === null) return;
      ctx.beginPath();
      ctx.arc(p[0], p[1], lw * 0.9, 0, 2 * Math.PI);
      ctx.fill();
    });
  }

  function show3d(referencePose, livePose) {
    if (!view3d) return;
    const layers = [];
    if (referencePose) layers.push({ pose: referencePose, colour: "#1f6feb", width: 4 });
    if (livePose) layers.push({ pose: livePose, colour: "#f06a1d", width: 3 });
    view3d.setLayers(layers);
  }

  // ---------------------------------------------------------------- trainer upload

  async function uploadTrainer(file) {
    if (!file) return;
    if (file.size > state.config.max_upload_bytes) {
      setStatus("trainer-status", `That file is too large (limit ${(state.config.max_upload_bytes / 1048576).toFixed(0)} MB).`, true);
      return;
    }
    setStatus("trainer-status", "Finding the trainer's pose...");
    const append = $("append").checked && state.hasReference ? "?append=true" : "";
    const response = await sessionPost(`reference${append}`, file, file.type || "application/octet-stream");
    if (!response || !response.ok) {
      setStatus("trainer-status", `Could not use that photo: ${response ? await errorText(response) : "no response"}`, true);
      return;
    }
    const result = await response.json();
    state.hasReference = true;
    state.referencePose3d = result.pose.joints_rel;
    const img = $("trainer-img");
    const url = URL.createObjectURL(file);
    img.onload = () => {
      URL.revokeObjectURL(url);
      const [w, h] = result.image_size;
      drawSkeleton2d($("trainer-overlay"), w, h, result.pose.joints_img, result.pose.confidence, null);
    };
    img.src = url;
    $("trainer-frame").hidden = false;
    show3d(result.pose.joints_rel, null);
    const steps = result.session.steps;
    const hold = steps[steps.length - 1].hold_s;
    const which = steps.length > 1 ? ` (pose ${steps.length} of the workout)` : "";
    setStatus("trainer-status", `Got it${which}. Now copy this pose and hold it for ${hold} s.`);
    showWorkoutLink();
    setStatus("live-status", state.running ? "Copy the pose!" : "Start the camera and copy the pose.");
    resetDisplay();
  }

  function showWorkoutLink() {
    const link = $("download-workout");
    link.href = `/api/sessions/${state.sessionId}/workout`;
    link.hidden = false;
  }

  async function loadWorkout(file) {
    if (!file) return;
    if (file.size > state.config.max_upload_bytes) {
      setStatus("trainer-status", "That workout file is too large.", true);
      return;
    }
    if (!state.sessionId) await newSession();
    const response = await fetch(`/api/sessions/${state.sessionId}/workout`, {
      method: "PUT",
      body: await file.text(),
      headers: { "Content-Type": "application/json" },
    });
    if (!response.ok) {
      setStatus("trainer-status", `Could not load that workout: ${await errorText(response)}`, true);
      return;
    }
    const session = await response.json();
    state.hasReference = true;
    state.referencePose3d = null;
    $("trainer-frame").hidden = true;
    show3d(null, null);
    showWorkoutLink();
    const holds = session.steps.map((s) => s.hold_s).join(", ");
    setStatus("trainer-status", `Workout loaded: ${session.steps.length} poses (hold ${holds} s). Start the camera.`);
    resetDisplay();
  }

  // ---------------------------------------------------------------- live frames

  function resetDisplay() {
    $("hud").hidden = true;
    $("score").textContent = "--";
    $("score").className = "score";
    $("hold-bar").style.width = "0%";
    $("hold-text").textContent = "Hold the pose";
    $("matched-banner").hidden = true;
    $("cues").replaceChildren();
  }

  function showResult(result) {
    state.lastResult = result;
    state.responses += 1;
    const comparison = result.comparison || {};
    const score = comparison.score;
    const scoreEl = $("score");
    scoreEl.textContent = score === null || score === undefined ? "--" : String(Math.round(score));
    scoreEl.className = "score " + (score >= 85 ? "good" : score >= 60 ? "ok" : score !== null && score !== undefined ? "bad" : "");
    const cues = $("cues");
    cues.replaceChildren();
    const lines = comparison.cues && comparison.cues.length ? comparison.cues : [];
    for (const line of lines) {
      const li = document.createElement("li");
      li.textContent = line;
      cues.appendChild(li);
    }
    let praise = "";
    if (!lines.length && comparison.in_tolerance) {
      const li = document.createElement("li");
      li.className = "good";
      praise = result.hold && result.hold.matched ? "Well done!" : "Looks good, hold it!";
      li.textContent = praise;
      cues.appendChild(li);
    }
    $("hud").hidden = false;
    $("hud-score").textContent = scoreEl.textContent;
    $("hud-cue").textContent = lines.length ? lines[0] : praise;
    const hold = result.hold;
    if (hold) {
      $("hold-bar").style.width = `${Math.round(hold.progress * 100)}%`;
      $("hold-text").textContent = hold.matched
        ? "Matched!"
        : hold.state === "holding"
          ? `Hold ${hold.remaining_s.toFixed(1)} s more`
          : `Hold the pose for ${hold.hold_s.toFixed(1)} s`;
    }
    if (result.step) {
      $("step-text").textContent = result.step.count > 1 ? `Pose ${result.step.index + 1} of ${result.step.count}` : "";
    }
    $("matched-banner").hidden = !(result.finished || result.completed_step !== null);
    if (result.finished) $("matched-banner").textContent = "Matched! Workout done";
    else $("matched-banner").textContent = "Matched!";
    const [w, h] = result.image_size;
    const pose = result.pose;
    drawSkeleton2d($("live-overlay"), w, h, pose && pose.joints_img, pose && pose.confidence, comparison.limb_errors);
    show3d(comparison.reference_pose || state.referencePose3d, comparison.live_pose || null);
  }

  function captureFrame(video) {
    const maxSide = state.config.frame_max_side;
    const vw = video.videoWidth;
    const vh = video.videoHeight;
    const factor = Math.min(1, maxSide / Math.max(vw, vh));
    const canvas = captureFrame.canvas || (captureFrame.canvas = document.createElement("canvas"));
    canvas.width = Math.round(vw * factor);
    canvas.height = Math.round(vh * factor);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height); // unmirrored
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.75));
  }

  async function sendFrame(blob, run) {
    state.inFlight = true;
    try {
      const response = await sessionPost("frame", blob, "image/jpeg");
      if (!response || run !== state.cameraRun) return; // the camera was stopped meanwhile: stale
      if (response.status === 429) {
        state.framesSkipped += 1; // the server dropped it: just send the next one
      } else if (response.status === 404 || response.status === 409) {
        state.hasReference = false;
        setStatus("live-status", "Upload the trainer photo again (the session ended).", true);
      } else if (!response.ok) {
        setStatus("live-status", `Server error: ${await errorText(response)}`, true);
      } else {
        showResult(await response.json());
        setStatus("live-status", "");
        const now = performance.now();
        state.timestamps.push(now);
        state.timestamps = state.timestamps.filter((t) => now - t < 3000);
        $("fps").textContent = `${(state.timestamps.length / 3).toFixed(1)} results/s`;
      }
    } catch (e) {
      setStatus("live-status", `Connection problem: ${e.message}`, true);
    } finally {
      state.inFlight = false;
    }
  }

  // One loop per camera start: it ends when the camera is stopped (or restarted, which starts a new one).
  async function pump(run) {
    if (!state.running || run !== state.cameraRun) return;
    const video = $("video");
    if (!state.inFlight && state.hasReference && video.readyState >= 2 && video.videoWidth > 0) {
      const blob = await captureFrame(video);
      if (blob && state.running && run === state.cameraRun) {
        state.framesSent += 1;
        sendFrame(blob, run); // not awaited: the next tick skips while it is in flight
      }
    } else if (state.inFlight) {
      state.framesSkipped += 1;
    }
    setTimeout(() => pump(run), 40);
  }

  async function startCamera() {
    if (state.running) {
      stopCamera();
      return;
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      setStatus(
        "live-status",
        "This browser gives no camera here: open the page over https or on localhost, or use 'Photo instead'.",
        true,
      );
      return;
    }
    try {
      state.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } },
        audio: false,
      });
    } catch (e) {
      setStatus("live-status", `Camera not available: ${e.message || e.name}`, true);
      return;
    }
    const video = $("video");
    video.srcObject = state.stream;
    await video.play().catch(() => {});
    if (video.videoWidth && video.videoHeight) {
      // Fit the box to the camera (portrait on a phone held upright), within the page's width.
      $("live-frame").style.aspectRatio = `${video.videoWidth} / ${video.videoHeight}`;
    }
    const settings = state.stream.getVideoTracks()[0].getSettings();
    $("live-frame").classList.toggle("mirror", settings.facingMode !== "environment");
    state.running = true;
    state.cameraRun += 1;
    $("camera-button").textContent = "Stop camera";
    setStatus("live-status", state.hasReference ? "Copy the pose!" : "Upload the trainer photo first.");
    pump(state.cameraRun);
  }

  function stopCamera() {
    state.running = false;
    state.cameraRun += 1;
    if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
    state.stream = null;
    $("video").srcObject = null;
    $("camera-button").textContent = "Start camera";
  }

  async function snapshot(file) {
    if (!file || !state.hasReference) {
      setStatus("live-status", "Upload the trainer photo first.", true);
      return;
    }
    if (state.running) stopCamera();
    $("live-frame").classList.remove("mirror");
    const response = await sessionPost("frame", file, file.type || "application/octet-stream");
    if (response && response.ok) {
      const result = await response.json();
      showResult(result);
      // Show the photo itself under its skeleton, on the overlay canvas.
      const img = new Image();
      const url = URL.createObjectURL(file);
      img.onload = () => {
        URL.revokeObjectURL(url);
        const [w, h] = result.image_size;
        const pose = result.pose;
        const errors = result.comparison && result.comparison.limb_errors;
        drawSkeleton2d($("live-overlay"), w, h, pose && pose.joints_img, pose && pose.confidence, errors, img);
      };
      img.src = url;
    } else {
      setStatus("live-status", `Could not use that photo: ${response ? await errorText(response) : ""}`, true);
    }
  }

  async function reset() {
    if (!state.sessionId) return;
    await sessionPost("reset", null, null);
    resetDisplay();
  }

  // ---------------------------------------------------------------- start-up

  async function init() {
    try {
      const response = await fetch("/api/config");
      state.config = await response.json();
      $("model-info").textContent = `Model: ${state.config.model} · joints: ${state.config.joint_set}`;
      view3d = new window.Skeleton3D($("view3d"), state.config.skeleton, state.config.sides, state.config.root);
      await newSession();
    } catch (e) {
      setStatus("trainer-status", `Cannot reach the server: ${e.message}`, true);
      return;
    }
    $("trainer-file").addEventListener("change", (e) => uploadTrainer(e.target.files[0]));
    $("workout-file").addEventListener("change", (e) => loadWorkout(e.target.files[0]));
    $("snapshot-file").addEventListener("change", (e) => snapshot(e.target.files[0]));
    $("camera-button").addEventListener("click", startCamera);
    $("reset-button").addEventListener("click", reset);
    document.body.dataset.ready = "1";
  }

  init();
})();
