"""End to end in headless Chromium: `convnextpose serve`, the page, a trainer upload and a fake camera.

The camera is Chromium's fake capture device playing a .y4m file made here from generated
stick-figure frames, so the page's real getUserMedia path runs. Skipped with the reason when
chromium/chromedriver or selenium are missing (``.ci/run`` installs them).

With CONVNEXTPOSE_SCREENSHOT=path.png, test_readme_screenshot saves the page with the sample photos
as trainer and camera (this made docs/images/fitness_app.png).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from convnextpose import fitness as F

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="headless browser test needs chromium and chromedriver (Debian: apt-get install chromium chromium-driver)",
)


def stick_figure(t: float, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """A generated RGB frame: a stick figure on a grey wall whose arms swing with ``t`` (0..1)."""
    width, height = size
    image = np.full((height, width, 3), (205, 200, 190), np.uint8)
    image[int(height * 0.85) :] = (150, 140, 125)  # floor
    cx, s = width // 2, height / 240.0
    neck, hip = (cx, int(70 * s)), (cx, int(140 * s))
    colour, thick = (40, 60, 110), max(2, int(7 * s))
    cv2.circle(image, (cx, int(50 * s)), int(17 * s), (230, 190, 160), -1)
    cv2.line(image, neck, hip, colour, thick)
    swing = np.radians(20 + 120 * t)
    for sign in (-1, 1):
        shoulder = (cx + sign * int(20 * s), int(78 * s))
        hand = (int(shoulder[0] + sign * 60 * s * np.sin(swing)), int(shoulder[1] + 60 * s * np.cos(swing)))
        cv2.line(image, neck, shoulder, colour, thick)
        cv2.line(image, shoulder, hand, colour, thick)
        foot = (cx + sign * int(28 * s), int(215 * s))
        cv2.line(image, hip, foot, (60, 60, 60), thick)
    return image


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 15) -> Path:
    """Write RGB frames as an uncompressed YUV 4:2:0 .y4m file (what Chromium's fake camera plays)."""
    height, width = frames[0].shape[:2]
    with open(path, "wb") as handle:
        handle.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            handle.write(b"FRAME\n")
            handle.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def random_checkpoint(path: Path) -> Path:
    """The tiny test network with random weights large enough for varied (meaningless) poses."""
    from convnextpose import build_model
    from convnextpose.models import save_checkpoint

    torch.manual_seed(0)
    model = build_model("test").eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.weight.normal_(0.0, (2.0 / module.weight[0].numel()) ** 0.5)
    return save_checkpoint(path, model)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> dict:
    import json

    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`convnextpose serve` of a random-weight network on a free loopback port, stopped afterwards."""
    work = tmp_path_factory.mktemp("serve")
    checkpoint = random_checkpoint(work / "random.pth")
    with serving(work, "--checkpoint", str(checkpoint), "--detector", "frame", "--min-confidence", "0") as base:
        yield base, work


@contextlib.contextmanager
def serving(work: Path, *args: str):
    """``convnextpose serve ARGS`` on a free loopback port until the block ends; yields its base URL."""
    port = free_port()
    log = open(work / "server.log", "w+")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "convnextpose", "serve", "--port", str(port), "--hold", "1", *args],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):  # up to ~60 s for Python, torch and the model to load
            if process.poll() is not None:
                break
            try:
                if get_json(base + "/api/health")["status"] == "ok":
                    break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("the server did not come up in 60 s")
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"convnextpose serve exited with {process.returncode}:\n{log.read()}")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def as_camera_frames(image: np.ndarray, count: int = 10) -> list[np.ndarray]:
    """A still RGB image padded (edge pixels repeated) to 4:3, as fake camera frames."""
    height, width = image.shape[:2]
    out_w = max(width, height * 4 // 3) // 2 * 2
    out_h = out_w * 3 // 4 // 2 * 2
    top, left = (out_h - height) // 2, (out_w - width) // 2
    padded = cv2.copyMakeBorder(
        image, max(top, 0), max(out_h - height - top, 0), left, out_w - width - left, cv2.BORDER_REPLICATE
    )
    return [padded[:out_h, :out_w]] * count


@pytest.fixture
def open_browser(tmp_path):
    """A function (camera frames, window size) -> headless Chromium whose fake camera plays the frames."""
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def start(frames: list[np.ndarray], window: str = "1180,940"):
        video = write_y4m(tmp_path / f"camera{len(drivers)}.y4m", frames)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in (
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / f'profile{len(drivers)}'}",
            f"--window-size={window}", "--hide-scrollbars",
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ):  # fmt: skip
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        drivers.append(driver)
        driver.set_page_load_timeout(30)
        return driver

    try:
        yield start
    finally:
        for driver in drivers:
            driver.quit()


def upload_trainer(browser, wait, path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.execute_script("document.getElementById('trainer-file').hidden = false;")
    browser.find_element(By.ID, "trainer-file").send_keys(str(path))
    browser.execute_script("document.getElementById('trainer-file').hidden = true;")
    wait.until(lambda d: "Got it" in d.find_element(By.ID, "trainer-status").text)


def test_page_scores_a_fake_camera(server, open_browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = server
    browser = open_browser([stick_figure(i / 29) for i in range(30)])
    trainer = tmp_path / "trainer.png"
    cv2.imwrite(str(trainer), cv2.cvtColor(stick_figure(0.6, (300, 300)), cv2.COLOR_RGB2BGR))
    wait = WebDriverWait(browser, 60, poll_frequency=0.2)

    browser.get(base + "/")
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1")
    assert "random.pth (torch)" in browser.find_element(By.ID, "model-info").text

    # Upload the trainer photo through the page's file input.
    upload_trainer(browser, wait, trainer)
    assert browser.find_element(By.ID, "trainer-frame").is_displayed()

    # The fake camera streams; frames go to the server; a score and cues come back.
    browser.find_element(By.ID, "camera-button").click()
    wait.until(lambda d: d.execute_script("return window.fitnessApp.responses") >= 3)
    browser.save_screenshot(str(tmp_path / "page.png"))
    # Stop streaming and let the last frame land, so the page holds still while it is read.
    browser.find_element(By.ID, "camera-button").click()
    wait.until(lambda d: not d.execute_script("return window.fitnessApp.inFlight"))
    page = browser.execute_script(
        "const s = window.fitnessApp;"
        "return {score: document.getElementById('score').textContent, result: s.lastResult, sent: s.framesSent,"
        " cues: [...document.querySelectorAll('#cues li')].map((li) => li.textContent),"
        " hold: document.getElementById('hold-text').textContent};"
    )
    result = page["result"]
    assert page["score"].isdigit() and 0 <= int(page["score"]) <= 100
    assert int(page["score"]) == int(result["comparison"]["score"] + 0.5)  # Math.round
    assert result["person"] is True and len(result["pose"]["joints_img"]) == 18
    assert result["image_size"][0] <= 480  # frames are downscaled before sending
    if result["comparison"]["cues"]:
        assert page["cues"] == result["comparison"]["cues"]
    else:
        assert result["comparison"]["in_tolerance"] and page["cues"]
    assert page["hold"] and page["sent"] >= 3
    assert "error" not in browser.find_element(By.ID, "live-status").get_attribute("class")
    # The 3D view and the live overlay were drawn on (not blank).
    for canvas in ("view3d", "live-overlay"):
        drawn = browser.execute_script(
            "const c = document.getElementById(arguments[0]);"
            "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            "let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n;",
            canvas,
        )
        assert drawn > 100, canvas
    health = get_json(base + "/api/health")
    assert health["processed"] >= 4 and health["in_flight"] <= 2
    # The poses can be saved as a workout, and a workout file can be loaded instead of a photo.
    link = browser.find_element(By.ID, "download-workout")
    assert link.is_displayed()
    saved = get_json(link.get_attribute("href"))
    assert saved["format"] == "convnextpose-workout" and len(saved["steps"]) == 1
    workout = tmp_path / "two_poses.json"
    F.Workout([F.WorkoutStep(F.make_pose(), hold_s=5), F.WorkoutStep(F.make_pose(), hold_s=5)]).save(workout)
    browser.execute_script("document.getElementById('workout-file').hidden = false;")
    browser.find_element(By.ID, "workout-file").send_keys(str(workout))
    wait.until(lambda d: "Workout loaded: 2 poses" in d.find_element(By.ID, "trainer-status").text)
    responses = browser.execute_script("return window.fitnessApp.responses")
    browser.find_element(By.ID, "camera-button").click()
    wait.until(lambda d: d.execute_script("return window.fitnessApp.responses") >= responses + 2)
    assert browser.find_element(By.ID, "step-text").text in ("Pose 1 of 2", "Pose 2 of 2")

    # "Photo instead": one photo scored without the camera (which it stops; a frame still on its
    # way may land first, so wait for the photo's result by its size).
    browser.execute_script("document.getElementById('snapshot-file').hidden = false;")
    browser.find_element(By.ID, "snapshot-file").send_keys(str(trainer))
    wait.until(lambda d: d.execute_script("return window.fitnessApp.lastResult.image_size") == [300, 300])
    assert not browser.execute_script("return window.fitnessApp.running")
    time.sleep(0.5)  # a stale camera result, if any, would arrive now and must be ignored
    assert browser.execute_script("return window.fitnessApp.lastResult.image_size") == [300, 300]

    # No script errors (a missing favicon is the only request allowed to fail).
    errors = [
        e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]
    ]
    assert errors == []


@pytest.mark.skipif(not os.environ.get("CONVNEXTPOSE_SCREENSHOT"), reason="set CONVNEXTPOSE_SCREENSHOT=out.png to run")
def test_readme_screenshot(open_browser, tmp_path):
    """The README's picture: sample photos as trainer and camera, served with the shipped default weights."""
    from PIL import Image
    from selenium.webdriver.support.ui import WebDriverWait

    from conftest import shared_path
    from convnextpose.image import read_image

    camera = read_image(shared_path("images", "single_person_3.png"))
    with serving(tmp_path) as base:  # no --checkpoint: the default weights and person finder
        browser = open_browser(as_camera_frames(camera), window="1180,900")
        wait = WebDriverWait(browser, 60, poll_frequency=0.2)
        browser.get(base + "/")
        wait.until(lambda d: d.execute_script("return document.body.dataset.ready") == "1")
        upload_trainer(browser, wait, shared_path("images", "single_person_4.png"))
        browser.execute_script("document.getElementById('camera-button').click()")
        wait.until(lambda d: d.execute_script("return window.fitnessApp.responses") >= 5)
        png = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")
    png.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(os.environ["CONVNEXTPOSE_SCREENSHOT"], optimize=True)
