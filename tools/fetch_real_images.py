"""Fetch real photographs from Debian packages into a git-ignored cache (``make real-images``).

Two kinds, each from packages the Debian registry serves, with each package's licence recorded:

- ``backgrounds/<package>/``: desktop wallpapers (landscapes, cities, abstract art), the backdrops
  synthetic people are composited onto (``convnextpose data synth --backgrounds``). The largest
  size of each wallpaper only, downscaled to at most 1920 px.
- ``people/<package>/``: the few real photographs of people Debian ships: OpenCV's sample data
  (``vtest.avi``, a pedestrian video, every second frame; basketball players; a footballer), as
  label-free distillation data (``convnextpose data boxes`` finds the people).
- ``people_videos/<package>/``: frames of real videos of people whose footage is under a free
  licence, from PyPI wheels and a Debian source package (``PEOPLE_VIDEOS``): Sports2D's demo (two
  people walking and balancing outdoors), Pose2Sim's single-person demo (four views of a man
  balancing in a lab) and torchvision's gallery clip from Pexels (a man shooting hoops). Clips
  whose footage is research-only (Kinetics, UCF101, HMDB51 test clips) are left out.

``SOURCES.md`` lists every package with its version, licence and file count; ``licenses/`` holds each
package's copyright file. The shared test photos (``../shared/images``) are never fetched or used
for training. Re-running skips packages already done (a ``.done`` marker per package folder).

Needs ``apt-get`` (downloads as any user with a package index; run ``apt-get update`` once as root if
there is none) and ``dpkg-deb``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import cv2

BACKGROUND_PACKAGES = ("plasma-workspace-wallpapers", "mate-backgrounds", "gnome-backgrounds", "ukui-wallpapers")
PEOPLE_PACKAGES = ("opencv-doc",)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
MAX_SIDE = 1920
OPENCV_PEOPLE_PHOTOS = ("basketball1.png", "basketball2.png", "messi5.jpg")
VIDEO_FRAME_STEP = 2
DEBIAN_POOL = "http://deb.debian.org/debian/pool/main"


#: (registry, package, version, files in its archive, keep every n-th frame, licence of the footage)
PEOPLE_VIDEOS = (
    ("pypi", "sports2d", "0.8.34", ("Sports2D/Demo/demo.mp4",), 3,
     "BSD-3-Clause (the package's licence; filmed by its author)"),
    ("pypi", "pose2sim", "0.10.49", tuple(f"Pose2Sim/Demo_SinglePerson/videos/cam0{i}.mp4" for i in range(1, 5)), 5,
     "BSD-3-Clause (the package's licence; the authors' own recording)"),
    ("debian-source", "pytorch-vision", "0.14.1", ("vision-0.14.1/gallery/assets/basketball.mp4",), 3,
     "Pexels licence (video by Pavel Danilyuk, in torchvision's gallery; the package's code is BSD-3-Clause)"),
)  # fmt: skip


def run(command: list[str], cwd: Path | None = None) -> str:
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        sys.exit(f"error: {command[0]} not found; this needs a Debian-based system (apt-get, dpkg-deb)")
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed:\n{result.stderr.strip()}")
    return result.stdout


def download(package: str, debs: Path) -> Path:
    """The package's .deb in ``debs`` (downloaded once)."""
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        run(["apt-get", "download", "-q", package], cwd=debs)
        found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        sys.exit(f"error: apt-get download {package} wrote no .deb into {debs}")
    return found[-1]


def licence_of(copyright_text: str) -> str:
    """The licence of the ``Files: *`` paragraph of a machine-readable Debian copyright file (else the first)."""
    paragraphs = re.split(r"\n\s*\n", copyright_text)
    for paragraph in paragraphs:
        if re.search(r"^Files:\s*\*\s*$", paragraph, flags=re.M):
            match = re.search(r"^License:\s*(.+)$", paragraph, flags=re.M)
            if match:
                return match.group(1).strip()
    match = re.search(r"^License:\s*(.+)$", copyright_text, flags=re.M) or re.search(
        r"Licen[sc]ed under (?:the )?(.+?)\.?\s*$", copyright_text, flags=re.M
    )
    return match.group(1).strip() if match else "see the copyright file"


def save_image(image, target: Path) -> None:
    height, width = image.shape[:2]
    scale = MAX_SIDE / max(height, width)
    if scale < 1:
        image = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial.jpg")
    if not cv2.imwrite(str(partial), image, [cv2.IMWRITE_JPEG_QUALITY, 92]):
        sys.exit(f"error: could not write {target}")
    partial.replace(target)


def largest_per_wallpaper(files: list[Path]) -> list[Path]:
    """One file per wallpaper: the biggest of the sizes a package ships (``Name/contents/images/WxH.jpg``,
    ``Name_3840x2160.jpg``)."""
    groups: dict[str, Path] = {}
    for path in files:
        key = (
            str(path.parent)
            if path.parent.name == "images"
            else re.sub(r"[_-]?\d{3,5}x\d{3,5}", "", str(path.with_suffix("")))
        )
        if key not in groups or path.stat().st_size > groups[key].stat().st_size:
            groups[key] = path
    return sorted(groups.values())


def backgrounds(root: Path, out: Path) -> int:
    files = [p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and "screenshot" not in p.name.lower()]
    count = 0
    for path in largest_per_wallpaper(files):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None or min(image.shape[:2]) < 256:
            continue
        name = re.sub(r"[^A-Za-z0-9]+", "_", str(path.relative_to(root).with_suffix(""))).strip("_")
        save_image(image, out / f"{name}.jpg")
        count += 1
    return count


def opencv_people(root: Path, out: Path) -> int:
    data = next(root.rglob("examples/data"), None)
    if data is None:
        sys.exit(f"error: no examples/data folder in the opencv-doc package under {root}")
    count = 0
    for name in OPENCV_PEOPLE_PHOTOS:
        image = cv2.imread(str(data / name), cv2.IMREAD_COLOR)
        if image is not None:
            save_image(image, out / "photos" / f"{Path(name).stem}.jpg")
            count += 1
    return count + video_frames(data / "vtest.avi", out / "vtest", VIDEO_FRAME_STEP, name="frame")


def download_archive(registry: str, package: str, version: str, downloads: Path) -> Path:
    """A PyPI wheel (``pip download``) or a Debian source tarball (the Debian mirror's pool), once."""
    downloads.mkdir(parents=True, exist_ok=True)
    if registry == "pypi":
        found = sorted(downloads.glob(f"{package}-{version}-*.whl"))
        if not found:
            run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                 "--dest", str(downloads), f"{package}=={version}"])  # fmt: skip
            found = sorted(downloads.glob(f"{package}-{version}-*.whl"))
        if not found:
            sys.exit(f"error: pip download {package}=={version} wrote no wheel into {downloads}")
        return found[-1]
    target = downloads / f"{package}_{version}.orig.tar.gz"
    if not target.exists():
        url = f"{DEBIAN_POOL}/{package[0]}/{package}/{target.name}"
        partial = target.with_name(target.name + ".partial")
        try:
            urllib.request.urlretrieve(url, partial)
        except OSError as exc:
            sys.exit(f"error: could not download {url}: {exc}")
        partial.replace(target)
    return target


def video_frames(video: Path, out: Path, step: int, name: str | None = None) -> int:
    """Every ``step``-th frame of ``video`` as ``out/<name>_<frame>.jpg`` (``name``: the video's stem by default)."""
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        sys.exit(f"error: OpenCV cannot read the video {video}")
    index = count = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0:
            save_image(frame, out / f"{name or video.stem}_{index:04d}.jpg")
            count += 1
        index += 1
    capture.release()
    return count


def people_videos(out: Path, downloads: Path) -> list[tuple[str, str, str, str, int]]:
    """Frames of ``PEOPLE_VIDEOS`` into ``out/people_videos/<package>/``; rows for SOURCES.md."""
    rows = []
    for registry, package, version, members, step, licence in PEOPLE_VIDEOS:
        folder = out / "people_videos" / package
        if not (folder / ".done").exists():
            archive = download_archive(registry, package, version, downloads)
            if folder.exists():
                shutil.rmtree(folder)
            count = 0
            with tempfile.TemporaryDirectory(prefix="real-videos-") as tmp:
                for member in members:
                    target = Path(tmp) / Path(member).name
                    try:
                        if archive.suffix == ".whl":
                            with zipfile.ZipFile(archive) as wheel:
                                target.write_bytes(wheel.read(member))
                        else:
                            with tarfile.open(archive) as tar:
                                source = tar.extractfile(member)
                                if source is None:
                                    raise KeyError(member)
                                target.write_bytes(source.read())
                    except KeyError:
                        sys.exit(f"error: {archive.name} has no file {member}")
                    count += video_frames(target, folder, step)
            (folder / ".done").write_text(f"{count}\n")
        count = int((folder / ".done").read_text())
        rows.append((package, f"{version} ({registry})", "people (video frames)", licence, count))
        print(f"{package} {version}: {count} video frames -> {folder}")
    return rows


def fetch(out: Path) -> None:
    debs = out / "debs"
    sources = []
    jobs = [(p, "backgrounds", backgrounds) for p in BACKGROUND_PACKAGES] + [
        (p, "people", opencv_people) for p in PEOPLE_PACKAGES
    ]
    for package, kind, extract in jobs:
        folder = out / kind / package
        deb = download(package, debs)
        version = run(["dpkg-deb", "-f", str(deb), "Version"]).strip()
        with tempfile.TemporaryDirectory(prefix="real-images-") as tmp:
            run(["dpkg-deb", "-x", str(deb), tmp])
            copyright_file = next(Path(tmp).glob(f"usr/share/doc/{package}/copyright"), None)
            text = copyright_file.read_text(errors="replace") if copyright_file else ""
            (out / "licenses").mkdir(parents=True, exist_ok=True)
            (out / "licenses" / f"{package}.copyright").write_text(text)
            if not (folder / ".done").exists():
                if folder.exists():
                    shutil.rmtree(folder)
                count = extract(Path(tmp), folder)
                (folder / ".done").write_text(f"{count}\n")
        count = int((folder / ".done").read_text())
        sources.append((package, version, kind, licence_of(text), count))
        print(f"{package} {version}: {count} {kind} images -> {folder}")
    sources += people_videos(out, out / "downloads")
    lines = [
        "# Real images fetched by `make real-images` (tools/fetch_real_images.py)",
        "",
        "| package | version | used as | licence (Debian copyright `Files: *`; for videos, of the footage) | images |",
        "| --- | --- | --- | --- | ---: |",
        *[f"| {p} | {v} | {k} | {lic} | {n} |" for p, v, k, lic, n in sources],
        "",
        "Each package's full copyright file is in `licenses/`. Never commit these files.",
        "",
    ]
    (out / "SOURCES.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".cache/real_images", help="cache folder (git-ignored)")
    fetch(Path(parser.parse_args().out))


if __name__ == "__main__":
    main()
