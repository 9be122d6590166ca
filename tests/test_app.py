"""API tests of the fitness app: every endpoint with good and bad input (convnextpose.app)."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from dataclasses import dataclass

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from conftest import shared_path  # noqa: E402
from convnextpose import fitness as F  # noqa: E402
from convnextpose.app import create_app  # noqa: E402
from convnextpose.fitness.poses import direction_from_angles as dfa  # noqa: E402
from convnextpose.joints import get_joint_set  # noqa: E402

H36M = get_joint_set("human36m")
ARMS_UP = F.make_pose({"left upper arm": dfa(80, 90), "left forearm": dfa(80, 90), "right upper arm": dfa(80, -90)})
STANDING = F.make_pose()


@dataclass
class FakePose:
    joints_img: np.ndarray
    joints_rel: np.ndarray
    confidence: np.ndarray
    box: np.ndarray
    joint_names: tuple[str, ...] = H36M.names


class FakeEstimator:
    """Deterministic stand-in: the image's dominant colour picks the pose.

    red: arms up; green: standing; blue: nobody; grey: a pose whose joints all have low confidence;
    black: a collapsed pose (all joints at one point).
    """

    joint_set = "human36m"

    def __init__(self) -> None:
        self.calls = 0
        self.sizes: list[tuple[int, int]] = []

    def __call__(self, image: np.ndarray) -> list[FakePose]:
        self.calls += 1
        self.sizes.append(image.shape[:2])
        mean = image.reshape(-1, 3).mean(axis=0)
        height, width = image.shape[:2]
        if mean.max() < 30:  # black: a collapsed pose, every joint at one point
            pose, confidence = np.zeros_like(STANDING), np.full(len(H36M), 0.9)
        elif mean.max() - mean.min() < 10:
            pose, confidence = STANDING, np.full(len(H36M), 0.01)
        else:
            pose = {0: ARMS_UP, 1: STANDING, 2: None}[int(np.argmax(mean))]
            confidence = np.full(len(H36M), 0.9)
        if pose is None:
            return []
        joints_img = pose[:, :2] / 2000.0 * height + [width / 2, height / 2]
        return [FakePose(joints_img, pose.copy(), confidence, np.array([0, 0, width, height], float))]


def encode(colour: tuple[int, int, int] = (255, 0, 0), size: tuple[int, int] = (64, 48), ext: str = ".jpg") -> bytes:
    """An image of one RGB colour, encoded."""
    image = np.zeros((size[1], size[0], 3), np.uint8)
    image[:] = colour[::-1]  # OpenCV writes BGR
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()


RED, GREEN, BLUE, GREY, BLACK = (220, 20, 20), (20, 220, 20), (20, 20, 220), (128, 128, 128), (0, 0, 0)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake() -> FakeEstimator:
    return FakeEstimator()


@pytest.fixture
def client(fake, clock) -> TestClient:
    app = create_app(fake, clock=clock, max_upload_bytes=200_000, max_pixels=1_000_000, default_hold_s=2.0)
    return TestClient(app)


def post_image(client: TestClient, url: str, data: bytes, content_type: str = "image/jpeg"):
    return client.post(url, content=data, headers={"Content-Type": content_type})


def new_session(client: TestClient) -> str:
    response = client.post("/api/sessions")
    assert response.status_code == 201
    return response.json()["session_id"]


def session_with_reference(client: TestClient, colour=RED, query: str = "") -> str:
    sid = new_session(client)
    response = post_image(client, f"/api/sessions/{sid}/reference{query}", encode(colour))
    assert response.status_code == 200, response.text
    return sid


# ------------------------------------------------------------------ pages and static files


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Copy the trainer" in page.text and 'src="/static/app.js"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from a CDN
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    for name, kind in (("app.js", "javascript"), ("skeleton3d.js", "javascript"), ("style.css", "text/css")):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
    assert "getUserMedia" in client.get("/static/app.js").text


@pytest.mark.parametrize("path", ["/static/../server.py", "/static/%2e%2e/server.py", "/static/..%2fserver.py"])
def test_no_files_outside_static(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "create_app" not in response.text


def test_config_and_health(client):
    config = client.get("/api/config").json()
    assert config["joint_set"] == "human36m" and config["joint_names"] == list(H36M.names)
    assert config["skeleton"] == [list(b) for b in H36M.skeleton]
    assert config["sides"][H36M.index("L_Wrist")] == "left" and config["root"] == H36M.root_index
    assert config["limbs"]["left forearm"] == [H36M.index("L_Elbow"), H36M.index("L_Wrist")]
    assert config["max_upload_bytes"] == 200_000 and config["default_hold_s"] == 2.0
    assert config["model"] == "FakeEstimator"
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["dropped"] == 0


# ------------------------------------------------------------------ /api/pose and upload checks


def test_pose_of_an_image(client, fake):
    response = post_image(client, "/api/pose", encode(RED))
    assert response.status_code == 200
    body = response.json()
    assert body["image_size"] == [64, 48] and len(body["people"]) == 1
    person = body["people"][0]
    assert np.allclose(person["joints_rel"], np.round(ARMS_UP, 1), atol=0.06)
    assert len(person["joints_img"]) == 18 and person["box"] == [0, 0, 64, 48]
    assert post_image(client, "/api/pose", encode(BLUE)).json()["people"] == []


def test_estimator_outputs_with_the_old_names_are_read():
    from convnextpose.app import read_pose

    joints_cam = ARMS_UP + [100.0, 200.0, 4000.0]  # camera frame: the app makes it root-relative
    old = {"joints_2d": ARMS_UP[:, :2], "joints_3d": joints_cam, "confidence": np.full(18, 0.5)}
    view = read_pose(old, H36M)
    np.testing.assert_allclose(view.joints_rel, joints_cam - joints_cam[H36M.root_index])
    np.testing.assert_allclose(view.joints_img, ARMS_UP[:, :2])
    with pytest.raises(ValueError, match=r"joints_img of shape \(3, 2\)"):
        read_pose({"joints_img": np.zeros((3, 2)), "joints_rel": ARMS_UP}, H36M)


def test_multipart_upload_and_name_does_not_matter(client):
    png = encode(RED, ext=".png")
    # A PNG called .jpg with a wrong declared type is still a PNG: the bytes decide.
    response = client.post("/api/pose", files={"image": ("photo.jpg", png, "image/jpeg")})
    assert response.status_code == 200 and len(response.json()["people"]) == 1
    response = client.post("/api/pose", files={"image": ("photo.png", b"just text", "image/png")})
    assert response.status_code == 400 and "not an image" in response.json()["detail"]
    response = client.post("/api/pose", files={"picture": ("photo.png", png, "image/png")})
    assert response.status_code == 400 and "'image'" in response.json()["detail"]


def test_big_images_are_downscaled_and_joints_mapped_back(clock):
    fake = FakeEstimator()
    client = TestClient(create_app(fake, clock=clock, max_pixels=10_000_000))
    body = post_image(client, "/api/pose", encode(RED, size=(2560, 1280))).json()
    assert fake.sizes[-1] == (640, 1280)  # the estimator saw at most 1280 px on the long side
    assert body["image_size"] == [2560, 1280] and body["people"][0]["box"] == [0, 0, 2560, 1280]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "message"),
    [
        (b"", "image/jpeg", 400, "empty body"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif", 415, None),
        (b"hello, I am not an image", "image/jpeg", 400, "not an image"),
        # The media type is right, the body is not a usable image: 400 saying so, not 415.
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "image/jpeg", 400, "corrupt or truncated JPEG"),
        (encode(RED, ext=".png")[:60], "image/png", 400, "corrupt or truncated PNG image: its header says 64x48"),
        (b"%PDF-1.4 ...", "application/pdf", 415, "Content-Type"),
        (b'{"image": "/etc/passwd"}', "application/json", 415, None),  # paths are never read
        (b"x" * 200_001, "image/jpeg", 413, "limit"),
    ],
)
def test_bad_uploads_are_refused(client, fake, data, content_type, status, message):
    response = post_image(client, "/api/pose", data, content_type)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    if message:
        assert message in response.json()["detail"]
    assert fake.calls == 0  # nothing bad reaches the model


def test_gif_is_refused_even_when_it_decodes(client):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (255, 0, 0)).save(buffer, format="GIF")
    response = post_image(client, "/api/pose", buffer.getvalue(), "image/gif")
    assert response.status_code == 415 and "GIF" in response.json()["detail"]


def test_too_many_pixels_is_refused_from_the_header(clock):
    fake = FakeEstimator()
    client = TestClient(create_app(fake, clock=clock, max_pixels=50 * 50))
    response = post_image(client, "/api/pose", encode(RED, size=(64, 48), ext=".png"))
    assert response.status_code == 413 and "64x48" in response.json()["detail"]
    assert fake.calls == 0


def test_body_without_length_is_cut_off_at_the_limit(client, fake):
    def chunks():
        for _ in range(100):
            yield b"\xff" * 10_000  # 1 MB in total, more than the 200 kB limit

    response = client.post("/api/pose", content=chunks(), headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 413 and fake.calls == 0


# ------------------------------------------------------------------ sessions


def test_session_lifecycle(client):
    sid = new_session(client)
    state = client.get(f"/api/sessions/{sid}").json()
    assert state == {"session_id": sid, "steps": [], "step_index": 0, "finished": False, "frames": 0}
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    assert client.get(f"/api/sessions/{sid}").status_code == 404
    assert client.delete(f"/api/sessions/{sid}").status_code == 404


@pytest.mark.parametrize("bad_id", ["short", "a" * 65, "has space in it at all", "dots.and..slashes..ok"])
def test_malformed_session_ids(client, bad_id):
    assert client.get(f"/api/sessions/{bad_id}").status_code in (404, 422)
    response = post_image(client, f"/api/sessions/{bad_id}/frame", encode(RED))
    assert response.status_code in (404, 422)


def test_sessions_are_bounded_and_expire(fake, clock):
    client = TestClient(create_app(fake, clock=clock, max_sessions=2, session_ttl_s=60))
    first, second, third = (new_session(client) for _ in range(3))
    assert client.get(f"/api/sessions/{first}").status_code == 404  # evicted: least recently used
    assert client.get(f"/api/sessions/{second}").status_code == 200
    clock.now += 61
    assert client.get(f"/api/sessions/{third}").status_code == 404
    assert client.get("/api/health").json()["sessions"] == 0


# ------------------------------------------------------------------ reference


def test_reference_upload(client):
    sid = new_session(client)
    response = post_image(client, f"/api/sessions/{sid}/reference?hold_s=4&tolerance_deg=20", encode(RED))
    assert response.status_code == 200
    body = response.json()
    assert body["session"]["steps"] == [{"name": "pose 1", "hold_s": 4.0}]
    assert body["joint_set"] == "human36m" and body["image_size"] == [64, 48]
    assert body["angles"]["left shoulder"] == pytest.approx(F.joint_angles(ARMS_UP, H36M)["left shoulder"], abs=0.1)
    appended = post_image(client, f"/api/sessions/{sid}/reference?append=true", encode(GREEN))
    assert [s["hold_s"] for s in appended.json()["session"]["steps"]] == [4.0, 2.0]
    replaced = post_image(client, f"/api/sessions/{sid}/reference", encode(GREEN))
    assert len(replaced.json()["session"]["steps"]) == 1


@pytest.mark.parametrize(
    ("colour", "query", "status", "message"),
    [
        (BLUE, "", 422, "no person found"),
        (GREY, "", 422, "unclear"),
        (BLACK, "", 422, "no limb could be measured"),
        (RED, "?hold_s=-1", 422, "hold_s"),
        (RED, "?hold_s=abc", 422, "hold_s"),
        (RED, "?hold_s=nan", 422, "hold_s"),
        (RED, "?tolerance_deg=500", 422, "tolerance_deg"),
        (RED, "?append=maybe", 422, "append"),
    ],
)
def test_bad_references(client, colour, query, status, message):
    sid = new_session(client)
    response = post_image(client, f"/api/sessions/{sid}/reference{query}", encode(colour))
    assert response.status_code == status and message in response.json()["detail"]
    assert client.get(f"/api/sessions/{sid}").json()["steps"] == []


def test_reference_to_unknown_session(client):
    response = post_image(client, "/api/sessions/" + "x" * 22 + "/reference", encode(RED))
    assert response.status_code == 404 and "POST /api/sessions" in response.json()["detail"]


# ------------------------------------------------------------------ frames: scores, cues, hold


def test_frame_before_reference_is_409(client):
    sid = new_session(client)
    response = post_image(client, f"/api/sessions/{sid}/frame", encode(RED))
    assert response.status_code == 409 and "trainer image" in response.json()["detail"]


def test_wrong_pose_gets_a_low_score_and_cues(client):
    sid = session_with_reference(client, RED)
    response = post_image(client, f"/api/sessions/{sid}/frame", encode(GREEN))
    assert response.status_code == 200
    body = response.json()
    comparison = F.compare(ARMS_UP, STANDING, min_confidence=0.1)
    assert body["comparison"]["score"] == pytest.approx(comparison.score, abs=0.06)
    assert body["comparison"]["cues"] == comparison.cues and body["comparison"]["cues"][0].startswith("Raise your")
    assert body["comparison"]["limb_errors"]["left upper arm"] == pytest.approx(170.0, abs=0.06)
    assert body["hold"]["state"] == "out" and body["person"] is True and body["dropped"] is False
    assert len(body["pose"]["joints_img"]) == 18 and body["image_size"] == [64, 48]
    assert len(body["comparison"]["live_pose"]) == 18


def test_matching_pose_is_held_to_a_match(client, clock):
    sid = session_with_reference(client, RED, "?hold_s=2")
    states = []
    for _ in range(4):
        body = post_image(client, f"/api/sessions/{sid}/frame", encode(RED)).json()
        states.append((body["hold"]["state"], body["finished"], body["completed_step"]))
        assert body["comparison"]["score"] == pytest.approx(100.0) and body["comparison"]["cues"] == []
        clock.now += 1.0
    assert states == [("holding", False, None), ("holding", False, None), ("matched", True, 0), ("matched", True, None)]
    reset = client.post(f"/api/sessions/{sid}/reset").json()
    assert reset["step_index"] == 0 and not reset["finished"] and reset["frames"] == 4
    assert post_image(client, f"/api/sessions/{sid}/frame", encode(RED)).json()["hold"]["state"] == "holding"


def test_nobody_in_the_frame(client, clock):
    sid = session_with_reference(client, RED, "?hold_s=0")
    body = post_image(client, f"/api/sessions/{sid}/frame", encode(BLUE)).json()
    assert body["person"] is False and body["pose"] is None
    assert body["comparison"]["score"] is None and body["comparison"]["cues"] == ["Step into view of the camera"]
    assert body["hold"]["state"] == "out"


def test_bad_frames(client, fake):
    sid = session_with_reference(client, RED)
    calls = fake.calls
    assert post_image(client, f"/api/sessions/{sid}/frame", b"nope").status_code == 400
    assert post_image(client, f"/api/sessions/{sid}/frame", b"").status_code == 400
    assert post_image(client, f"/api/sessions/{sid}/frame", b"\x00" * 300_000).status_code == 413
    assert fake.calls == calls


def test_reset_unknown_session(client):
    assert client.post("/api/sessions/" + "y" * 22 + "/reset").status_code == 404


# ------------------------------------------------------------------ workouts


def test_workout_download_and_upload(client, clock):
    sid = new_session(client)
    assert client.get(f"/api/sessions/{sid}/workout").status_code == 409
    post_image(client, f"/api/sessions/{sid}/reference?hold_s=1", encode(RED))
    response = client.get(f"/api/sessions/{sid}/workout")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    workout = F.Workout.from_json(response.text)
    assert len(workout.steps) == 1 and np.allclose(workout.steps[0].pose, ARMS_UP)

    # A two-step workout uploaded as JSON: standing (0 s), then arms up (0 s).
    two = F.Workout([F.WorkoutStep(STANDING, hold_s=0), F.WorkoutStep(ARMS_UP, hold_s=0)], name="two")
    other = new_session(client)
    response = client.put(
        f"/api/sessions/{other}/workout", content=two.to_json(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200 and len(response.json()["steps"]) == 2
    first = post_image(client, f"/api/sessions/{other}/frame", encode(GREEN)).json()
    assert first["completed_step"] == 0 and first["step"]["count"] == 2
    second = post_image(client, f"/api/sessions/{other}/frame", encode(RED)).json()
    assert second["completed_step"] == 1 and second["finished"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ("{not json", "application/json", 422, "not valid JSON"),
        ('{"steps": []}', "application/json", 422, "steps: expected a non-empty list"),
        (json.dumps({"steps": [{"pose": [[0, 0, 0]] * 17}]}), "application/json", 422, "steps[0].pose: expected 18"),
        ('{"steps": [{"pose": "/etc/passwd"}]}', "application/json", 422, "steps[0].pose"),
        ("steps: []", "text/yaml", 415, "JSON"),
        (" " * 200_001, "application/json", 413, "limit"),
    ],
)
def test_bad_workouts(client, body, content_type, status, message):
    sid = new_session(client)
    response = client.put(f"/api/sessions/{sid}/workout", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status and message in response.json()["detail"]
    assert client.get(f"/api/sessions/{sid}").json()["steps"] == []


# ------------------------------------------------------------------ under load: frames dropped, images queued


class HeldEstimator(FakeEstimator):
    """Holds every call until the test sets ``release``; ``entered`` is set when a call arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, image):
        self.entered.set()
        assert self.release.wait(10), "test did not release the estimator"
        return super().__call__(image)


async def until(condition) -> None:
    """Wait (at most 5 s) on the event loop until ``condition()`` holds."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the gate never got there")


def in_process_client(app):
    import httpx

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


def test_slow_model_drops_frames_instead_of_queueing():
    held = HeldEstimator()
    app = create_app(held, max_queued_frames=1, default_hold_s=0)
    gate = app.state.gate

    async def scenario():
        async with in_process_client(app) as http:
            sid = (await http.post("/api/sessions")).json()["session_id"]
            held.release.set()
            ref = await http.post(
                f"/api/sessions/{sid}/reference", content=encode(RED), headers={"Content-Type": "image/jpeg"}
            )
            assert ref.status_code == 200
            held.release.clear()
            url, headers = f"/api/sessions/{sid}/frame", {"Content-Type": "image/jpeg"}
            running = asyncio.create_task(http.post(url, content=encode(RED), headers=headers))
            await until(lambda: held.entered.is_set() and gate.in_flight == 1)  # the first frame reached the model
            waiting = asyncio.create_task(http.post(url, content=encode(RED), headers=headers))
            await until(lambda: gate.in_flight == 2)
            dropped = [await http.post(url, content=encode(RED), headers=headers) for _ in range(3)]
            held.release.set()
            return await running, await waiting, dropped

    first, second, dropped = asyncio.run(scenario())
    assert first.status_code == 200 and second.status_code == 200
    assert [r.status_code for r in dropped] == [429] * 3 and all(r.json()["dropped"] for r in dropped)
    assert gate.dropped == 3 and gate.in_flight == 0 and held.calls == 3  # reference + two frames


def test_single_images_wait_their_turn_and_overload_is_503_with_retry_after():
    held = HeldEstimator()
    app = create_app(held, max_queued_images=2)
    gate = app.state.gate

    async def scenario():
        async with in_process_client(app) as http:

            def upload(width):  # the image width tells the calls apart
                return http.post(
                    "/api/pose", content=encode(RED, size=(width, 48)), headers={"Content-Type": "image/jpeg"}
                )

            running = asyncio.create_task(upload(61))
            await until(lambda: held.entered.is_set() and gate.in_flight == 1)
            waiting = [asyncio.create_task(upload(62))]
            await until(lambda: gate.in_flight == 2)
            waiting.append(asyncio.create_task(upload(63)))
            await until(lambda: gate.in_flight == 3)
            refused = await upload(64)  # a third waiting image is one too many
            held.release.set()
            return await running, [await w for w in waiting], refused

    first, queued, refused = asyncio.run(scenario())
    assert first.status_code == 200 and [r.status_code for r in queued] == [200, 200]
    assert refused.status_code == 503 and "server busy" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert [size[1] for size in held.sizes] == [61, 62, 63]  # served in the order they came
    assert gate.refused == 1 and gate.processed == 3 and gate.in_flight == 0 and gate.dropped == 0


def test_concurrent_uploads_on_loopback_are_all_answered():
    """The issue's measurement: 20 concurrent /api/pose uploads to a served app; all answered, none 503."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    import uvicorn

    from convnextpose.app.server import SERVER_OPTIONS
    from convnextpose.engine.dist import free_port

    class SlowEstimator(FakeEstimator):
        def __call__(self, image):
            time.sleep(0.02)
            return super().__call__(image)

    app = create_app(SlowEstimator())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **SERVER_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            time.sleep(0.02)
        assert server.started, "uvicorn did not start"
        url, image = f"http://127.0.0.1:{port}/api/pose", encode(RED)

        def upload(_):
            return httpx.post(url, content=image, headers={"Content-Type": "image/jpeg"}, timeout=60)

        with ThreadPoolExecutor(20) as pool:
            responses = list(pool.map(upload, range(20)))
    finally:
        server.should_exit = True
        thread.join(10)
    assert [r.status_code for r in responses] == [200] * 20
    assert all(len(r.json()["people"]) == 1 for r in responses)
    assert app.state.gate.processed == 20 and app.state.gate.refused == 0


# ------------------------------------------------------------------ a real estimator


def test_real_pose_estimator_plumbing(tiny_model):
    import torch

    from convnextpose.app import estimator_from_model

    # The tiny network's own init puts every joint at one point; larger random weights give
    # varied (meaningless) poses, enough for the whole path to run.
    torch.manual_seed(0)
    with torch.no_grad():
        for module in tiny_model.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.weight.normal_(0.0, (2.0 / module.weight[0].numel()) ** 0.5)
    image = np.random.default_rng(0).integers(0, 255, (120, 90, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".png", image)
    client = TestClient(create_app(estimator_from_model(tiny_model, detector="frame"), min_confidence=0.0))
    config = client.get("/api/config").json()
    assert config["joint_set"] == "human36m" and "PoseEstimator" in config["model"]
    body = post_image(client, "/api/pose", buf.tobytes(), "image/png").json()
    assert len(body["people"]) == 1 and len(body["people"][0]["joints_rel"]) == 18
    sid = new_session(client)
    response = post_image(client, f"/api/sessions/{sid}/reference", buf.tobytes(), "image/png")
    assert response.status_code == 200, response.text
    frame = post_image(client, f"/api/sessions/{sid}/frame", buf.tobytes(), "image/png").json()
    assert frame["comparison"]["score"] == pytest.approx(100.0, abs=0.1)  # the same image: the same pose
    other = cv2.imencode(".png", image[::-1].copy())[1].tobytes()
    frame = post_image(client, f"/api/sessions/{sid}/frame", other, "image/png").json()
    assert 0.0 <= frame["comparison"]["score"] < 100.0 and frame["comparison"]["cues"]


def test_official_checkpoint_plumbing():
    from convnextpose.app import estimator_from_model

    checkpoint = shared_path("fixtures", "official_checkpoint", "snapshot_24.pth.tar")
    photo = shared_path("images", "single_person_1.png").read_bytes()
    client = TestClient(create_app(estimator_from_model(str(checkpoint), detector="frame"), min_confidence=0.0))
    sid = new_session(client)
    reference = post_image(client, f"/api/sessions/{sid}/reference", photo, "image/png").json()
    assert len(reference["pose"]["joints_rel"]) == 18 and reference["image_size"] == [256, 256]
    frame = post_image(client, f"/api/sessions/{sid}/frame", photo, "image/png").json()
    # The same photo as reference and frame: the same pose, whatever the weights.
    assert frame["comparison"]["score"] == pytest.approx(100.0, abs=0.1) and frame["comparison"]["cues"] == []
