"""The raw Human3.6M download: file names, the toolkit's ``metadata.xml``, CDF poses and videos.

A subject folder ``S<n>/`` holds ``Videos/<sequence>.<camera id>.mp4`` (50 frames per second) and
``MyPoseFeatures/D3_Positions/<sequence>.cdf``, whose variable ``Pose`` has shape (1, N, 96): per
frame, 32 joints x (x, y, z) in world millimetres. ``<sequence>`` is the subject's own name for an
(action, subaction) pair ("Directions 1", "Directions", S1's "TakingPhoto 1", S5's "Discussion 3"),
given by the ``mapping`` table of ``metadata.xml`` (the file of the dataset's MATLAB toolkit).

``metadata.xml`` as the toolkit reads it (``H36MDataBase``, ``H36MCamera``):

- ``<mapping>``: rows ``<tr>`` of cells ``<td>``. Row 0 names the subjects from its third cell on
  (``S1`` .. ``S11``); rows 1..32 are (action 1..16, subaction 1..2, then one sequence name per
  subject); row 34 (the toolkit's 1-based row 35) holds per subject ``[W H;W H;W H;W H]``, the frame
  size of each camera.
- ``<dbcameras><index2id>``: the camera ids of camera indices 1..4.
- ``<w0>``: one bracketed row of 300 numbers. For camera c and subject s (1-based), six extrinsics
  at ``6 ((c - 1) 11 + s - 1)``: rotation angles a (rad) and the camera centre C (world mm); then
  per camera, nine intrinsics at ``264 + 9 (c - 1)``: f (2), c (2), radial k (3), tangential p (2).
  The rotation is R = Rx(a0) Ry(a1) Rz(a2) (right-handed elementary rotations) and
  ``X_cam = R (X_world - C)``; the release's camera files store ``t = -R C`` instead of C.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_open, atomic_path
from .records import DatasetError

CAMERA_IDS = ("54138969", "55011271", "58860488", "60457274")
SUBJECT_COUNT = 11  # columns of the mapping and blocks of w0, S1..S11 (S2-4 and S10 are not released)
RAW_JOINTS = 32
FPS = 50.0
# The 17 of the 32 joints the release keeps (the toolkit's "body" part), in the release's joint order:
# Pelvis, R_Hip, R_Knee, R_Ankle, L_Hip, L_Knee, L_Ankle, Torso, Neck, Nose, Head, L_Shoulder, L_Elbow,
# L_Wrist, R_Shoulder, R_Elbow, R_Wrist.
RELEASE_JOINTS = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
# Raw joints that repeat another joint's position (zero-length bones of the capture skeleton).
DUPLICATE_JOINTS = {11: 0, 16: 13, 24: 13, 20: 19, 23: 22, 28: 27, 31: 30}
W0_SIZE = SUBJECT_COUNT * len(CAMERA_IDS) * 6 + len(CAMERA_IDS) * 9  # 300
_INTRINSICS_AT = SUBJECT_COUNT * len(CAMERA_IDS) * 6  # 264
ACTION_BASE_NAMES = (
    "_ALL", "Directions", "Discussion", "Eating", "Greeting", "Phoning", "Posing", "Purchases", "Sitting",
    "SittingDown", "Smoking", "Photo", "Waiting", "Walking", "WalkDog", "WalkTogether",
)  # fmt: skip
# The dataset's own sequence names per subject, as its metadata.xml lists them: the number after each
# base name for rows (1, 1), (1, 2), (2, 1) ... (16, 2); "." means the bare name. S1 alone says
# "TakingPhoto" and "WalkingDog" where the others say "Photo" and "WalkDog".
_NAME_SUFFIXES = {
    1: "1 . 1 . 1 . 2 . 1 . 1 . 1 . 1 . 1 2 2 . 1 . 1 . 1 . 1 . 1 . 1 .",
    2: "2 1 1 . 1 . 1 2 1 . 1 . 1 . 1 . 1 . 2 3 1 . 1 . 1 . 1 . 1 . 1 .",
    3: "1 . 1 . 1 . 1 2 1 . 1 . 1 2 1 . 1 . 1 . 1 . 1 . 1 . 1 2 1 . 1 .",
    4: "1 . 1 . 1 . 1 . 1 . 1 . 1 . 1 . 1 . 1 2 1 . 1 . 1 . 1 . 1 . 2 3",
    5: "1 . 1 2 2 3 1 . 1 2 1 . 1 . 1 . 1 . . 1 1 . . 2 1 2 1 . 1 . 1 .",
    6: "1 . 1 . 1 . 1 2 1 . 1 . 2 . 1 . 1 2 1 . 1 . . 1 3 . 1 . 1 . 1 .",
    7: "1 . 1 . 1 . 1 . 1 . 2 . 1 . 1 . 1 . . 1 1 . . 1 1 2 1 2 1 . 1 .",
    8: "1 . 1 . 1 . 1 . 1 . 1 . 1 . 1 . 1 . . 1 1 . 1 . 1 . 1 . 1 . 1 2",
    9: "1 . 1 . 1 2 1 . 1 . 1 . 1 . 1 . 1 . . 1 1 . 1 . 1 . 1 . 1 . 1 .",
    10: "2 1 1 . 1 2 1 . 1 . 1 . 1 . 1 . 1 . . 1 2 . 1 . 1 . 1 . 1 . 1 .",
    11: "1 . 1 . 1 2 1 . 2 . 3 2 1 . 1 . 1 . . 1 2 . 1 . 1 . 1 . 1 . 1 .",
}
_S1_NAMES = {"Photo": "TakingPhoto", "WalkDog": "WalkingDog"}


def real_sequence_names(subject: int) -> dict[tuple[int, int], str]:
    """The dataset's file name stem of every (action 1..16, subaction 1..2) of a subject 1..11."""
    suffixes = _NAME_SUFFIXES[subject].split()
    names = {}
    for row, suffix in enumerate(suffixes):
        action, subaction = row // 2 + 1, row % 2 + 1
        base = ACTION_BASE_NAMES[action - 1]
        base = _S1_NAMES.get(base, base) if subject == 1 else base
        names[action, subaction] = base if suffix == "." else f"{base} {suffix}"
    return names


def video_path(raw_dir: Path, subject: int, sequence: str, camera: int) -> Path:
    """``S<n>/Videos/<sequence>.<camera id>.mp4`` for camera index 1..4."""
    return Path(raw_dir) / f"S{subject}" / "Videos" / f"{sequence}.{CAMERA_IDS[camera - 1]}.mp4"


def poses_path(raw_dir: Path, subject: int, sequence: str) -> Path:
    """``S<n>/MyPoseFeatures/D3_Positions/<sequence>.cdf`` (world coordinates of 32 joints)."""
    return Path(raw_dir) / f"S{subject}" / "MyPoseFeatures" / "D3_Positions" / f"{sequence}.cdf"


def rotation_from_angles(angles: np.ndarray) -> np.ndarray:
    """R = Rx(a0) Ry(a1) Rz(a2), world -> camera, from the three angles (rad) of ``w0``."""
    a, b, c = np.asarray(angles, dtype=np.float64)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rx @ ry @ rz


def angles_from_rotation(rotation: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rotation_from_angles` (a1 in [-pi/2, pi/2]); (3,) rad."""
    r = np.asarray(rotation, dtype=np.float64)
    b = np.arcsin(np.clip(r[0, 2], -1.0, 1.0))
    return np.array([np.arctan2(-r[1, 2], r[2, 2]), b, np.arctan2(-r[0, 1], r[0, 0])])


@dataclass(frozen=True)
class RawCamera:
    """One camera of one subject as ``metadata.xml`` encodes it.

    Attributes:
        rotation: (3, 3) world -> camera.
        center_world: (3,) mm, the camera centre C in the world frame.
        focal: (2,) px. princpt: (2,) px.
        radial: (3,) and tangential: (2,) distortion (the release ignores both).
    """

    rotation: np.ndarray
    center_world: np.ndarray
    focal: np.ndarray
    princpt: np.ndarray
    radial: np.ndarray
    tangential: np.ndarray

    @property
    def translation(self) -> np.ndarray:
        """(3,) mm, t of ``X_cam = R X_world + t`` (the release's camera files): ``-R C``."""
        return -self.rotation @ self.center_world


@dataclass
class Metadata:
    """What the conversion needs from ``metadata.xml``.

    Attributes:
        path: the file.
        sequences: {(subject, action, subaction): sequence name}.
        camera_ids: ids of camera indices 1..4.
        w0: (300,) camera parameters.
        resolutions: {subject: (4, 2) int [W, H] per camera} where the file lists them.
    """

    path: Path
    sequences: dict[tuple[int, int, int], str]
    camera_ids: tuple[str, ...]
    w0: np.ndarray
    resolutions: dict[int, np.ndarray]

    def sequence_name(self, subject: int, action: int, subaction: int) -> str:
        try:
            return self.sequences[subject, action, subaction]
        except KeyError:
            raise DatasetError(
                f"{self.path}: <mapping> has no sequence name for subject S{subject}, action {action}, "
                f"subaction {subaction}"
            ) from None

    def camera(self, subject: int, camera: int) -> RawCamera:
        """Camera index 1..4 of subject 1..11."""
        if not (1 <= subject <= SUBJECT_COUNT and 1 <= camera <= len(CAMERA_IDS)):
            raise ValueError(f"{self.path}: no camera {camera} of subject {subject} in w0")
        start = 6 * ((camera - 1) * SUBJECT_COUNT + subject - 1)
        extrinsic = self.w0[start : start + 6]
        intrinsic = self.w0[_INTRINSICS_AT + 9 * (camera - 1) : _INTRINSICS_AT + 9 * camera]
        return RawCamera(
            rotation_from_angles(extrinsic[:3]), extrinsic[3:].copy(), intrinsic[0:2].copy(),
            intrinsic[2:4].copy(), intrinsic[4:7].copy(), intrinsic[7:9].copy(),
        )  # fmt: skip


def _cells(row: ET.Element) -> list[str]:
    return [(cell.text or "").strip() for cell in row]


def _numbers(texts: list[str]) -> list[int] | None:
    try:
        return [int(float(t)) for t in texts]
    except ValueError:
        return None


def _matrix(text: str) -> np.ndarray | None:
    """'[1000 1002;1000 1000]' -> (2, 2) int array; None if the text is no such matrix."""
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        rows = [[int(float(v)) for v in r.split()] for r in text[1:-1].split(";") if r.strip()]
        return np.array(rows, dtype=np.int64) if rows and all(len(r) == 2 for r in rows) else None
    except ValueError:
        return None


def read_metadata(path: str | os.PathLike) -> Metadata:
    """Parse ``metadata.xml``.

    Raises:
        FileNotFoundError: no such file.
        DatasetError: malformed XML, or a missing or malformed ``mapping``, ``dbcameras/index2id`` or ``w0``
            (the message names the file and the element).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: metadata.xml not found (it ships with the Human3.6M toolkit; pass its path with --metadata)"
        )
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise DatasetError(f"{path}: malformed XML ({exc})") from None
    mapping = root.find("mapping")
    if mapping is None or len(mapping) < 33:
        raise DatasetError(f"{path}: expected a <mapping> table of a header and 32 sequence rows")
    rows = [_cells(r) for r in mapping]
    subjects = []
    for name in rows[0][2:]:
        match = re.fullmatch(r"S(\d+)", name)
        if not match:
            raise DatasetError(f"{path}: <mapping> header: expected subject names S1, S2, ..., got {name!r}")
        subjects.append(int(match.group(1)))
    sequences = {}
    for number, cells in enumerate(rows[1:33], start=1):
        action, subaction = (number - 1) // 2 + 1, (number - 1) % 2 + 1
        if _numbers(cells[:2]) != [action, subaction] or len(cells) != len(rows[0]):
            raise DatasetError(
                f"{path}: <mapping> row {number}: expected action {action}, subaction {subaction} and "
                f"{len(subjects)} sequence names, got {cells}"
            )
        for subject, name in zip(subjects, cells[2:]):
            sequences[subject, action, subaction] = name
    resolutions = {}
    for cells in rows[33:]:
        if not any(cells[:2]):
            sizes = {s: _matrix(c) for s, c in zip(subjects, cells[2:])}
            resolutions = {s: m for s, m in sizes.items() if m is not None and m.shape == (len(CAMERA_IDS), 2)}
    index2id = root.find("dbcameras/index2id")
    camera_ids = tuple(_cells(index2id)) if index2id is not None else ()
    if len(camera_ids) != len(CAMERA_IDS):
        raise DatasetError(f"{path}: <dbcameras><index2id> must list {len(CAMERA_IDS)} camera ids, got {camera_ids}")
    w0 = root.find("w0")
    text = (w0.text or "").strip() if w0 is not None else ""
    try:
        values = np.array([float(v) for v in text.strip("[]").split()], dtype=np.float64)
    except ValueError:
        raise DatasetError(f"{path}: <w0> must be a bracketed row of numbers") from None
    if len(values) < W0_SIZE or not np.isfinite(values[:W0_SIZE]).all():
        raise DatasetError(f"{path}: <w0> must hold {W0_SIZE} finite numbers (cameras), got {len(values)}")
    return Metadata(path, sequences, camera_ids, values[:W0_SIZE], resolutions)


def write_metadata(
    path: str | os.PathLike,
    cameras: dict[tuple[int, int], RawCamera],
    resolutions: dict[int, np.ndarray],
) -> Path:
    """Write a ``metadata.xml`` the toolkit's way, with the dataset's real sequence names.

    Args:
        cameras: {(subject 1..11, camera 1..4): camera}; w0 slots of absent subjects are zeros. The
            intrinsics and distortion are per camera in w0: those of the lowest subject listed are written.
        resolutions: {subject: (4, 2) [W, H] px per camera}.
    """
    w0 = np.zeros(W0_SIZE)
    for (subject, camera), cam in sorted(cameras.items(), reverse=True):  # the lowest subject writes last
        start = 6 * ((camera - 1) * SUBJECT_COUNT + subject - 1)
        w0[start : start + 6] = np.r_[angles_from_rotation(cam.rotation), cam.center_world]
        at = _INTRINSICS_AT + 9 * (camera - 1)
        w0[at : at + 9] = np.r_[cam.focal, cam.princpt, cam.radial, cam.tangential]
    subjects = range(1, SUBJECT_COUNT + 1)
    names = {s: real_sequence_names(s) for s in subjects}
    table = [["Action", "SubAction", *(f"S{s}" for s in subjects)]]
    table += [[str(a), str(b), *(names[s][a, b] for s in subjects)] for a in range(1, 17) for b in (1, 2)]
    table.append(["-", "-", *("" for _ in subjects)])  # row 33: not used by the toolkit's readers
    size_text = {s: "[" + ";".join(f"{w} {h}" for w, h in np.asarray(r).tolist()) + "]" for s, r in resolutions.items()}
    table.append(["", "", *(size_text.get(s, "") for s in subjects)])
    root = ET.Element("metadata")
    mapping = ET.SubElement(root, "mapping")
    for cells in table:
        row = ET.SubElement(mapping, "tr")
        for text in cells:
            ET.SubElement(row, "td").text = text
    action_names = ET.SubElement(root, "actionnames")
    for name in ACTION_BASE_NAMES:
        ET.SubElement(action_names, "item").text = name
    index2id = ET.SubElement(ET.SubElement(root, "dbcameras"), "index2id")
    for camera_id in CAMERA_IDS:
        ET.SubElement(index2id, "item").text = camera_id
    ET.SubElement(root, "w0").text = "[" + " ".join(repr(float(v)) for v in w0) + "]"
    ET.indent(root)
    with atomic_open(path, "wb") as handle:
        ET.ElementTree(root).write(handle, encoding="utf-8", xml_declaration=True)
    return Path(path)


def _import_cdflib():
    try:
        import cdflib
    except ImportError:
        raise ImportError("reading Human3.6M pose files needs cdflib: pip install convnextpose[h36m]") from None
    return cdflib


def read_poses(path: str | os.PathLike) -> np.ndarray:
    """(N, 32, 3) float64 world mm from a ``D3_Positions`` CDF file.

    Raises:
        FileNotFoundError: no such file.
        DatasetError: not a readable CDF, no variable ``Pose``, a shape other than (1, N, 96), or
            non-finite values (the message names the file).
    """
    cdflib = _import_cdflib()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: pose file not found")
    try:
        cdf = cdflib.CDF(str(path))
        info = cdf.cdf_info()
        variables = list(info.zVariables) + list(info.rVariables)
        pose = np.asarray(cdf.varget("Pose"), dtype=np.float64) if "Pose" in variables else None
    except Exception as exc:  # cdflib raises many types (OSError, ValueError, struct.error ...) on bad files
        raise DatasetError(f"{path}: not a readable CDF file ({type(exc).__name__}: {exc})") from None
    if pose is None:
        raise DatasetError(f"{path}: no variable 'Pose' (found {variables})")
    if pose.ndim != 3 or pose.shape[0] != 1 or pose.shape[2] != RAW_JOINTS * 3 or pose.shape[1] < 1:
        raise DatasetError(
            f"{path}: 'Pose' has shape {pose.shape}, expected (1, N, 96): N frames of 32 joints x, y, z in mm"
        )
    joints = pose.reshape(-1, RAW_JOINTS, 3)
    bad = np.flatnonzero(~np.isfinite(joints).all(axis=(1, 2)))
    if len(bad):
        raise DatasetError(f"{path}: 'Pose' frame {bad[0]} has non-finite values ({len(bad)} such frames)")
    return joints


def write_poses(path: str | os.PathLike, joints_world: np.ndarray) -> Path:
    """Write (N, 32, 3) world mm as a ``D3_Positions`` CDF file (``Pose``: (1, N, 96) CDF_DOUBLE), atomically."""
    _import_cdflib()
    from cdflib.cdfwrite import CDF

    joints_world = np.asarray(joints_world, dtype=np.float64)
    if joints_world.ndim != 3 or joints_world.shape[1:] != (RAW_JOINTS, 3):
        raise ValueError(f"joints_world must be (N, 32, 3), got {joints_world.shape}")
    spec = {
        "Variable": "Pose", "Data_Type": CDF.CDF_DOUBLE, "Num_Elements": 1, "Rec_Vary": True,
        "Dim_Sizes": [len(joints_world), RAW_JOINTS * 3], "Compress": 0,
    }  # fmt: skip
    with atomic_path(path, keep_suffix=True) as tmp:
        writer = CDF(tmp, delete=True)
        writer.write_var(spec, var_attrs={}, var_data=joints_world.reshape(1, -1, RAW_JOINTS * 3))
        writer.close()
    return Path(path)


def write_video(path: str | os.PathLike, frames_bgr: list[np.ndarray], fps: float = FPS) -> Path:
    """Write BGR uint8 frames as an MPEG-4 video (OpenCV's built-in ``mp4v`` encoder), atomically."""
    import cv2

    height, width = frames_bgr[0].shape[:2]
    with atomic_path(path, keep_suffix=True) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
        if not writer.isOpened():
            raise OSError(f"{path}: OpenCV cannot write an mp4v video here")
        for frame in frames_bgr:
            writer.write(frame)
        writer.release()
    return Path(path)


def read_video(path: str | os.PathLike, count: int, stride: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """(index, (H, W, 3) BGR uint8) of frames 0, stride, 2 stride ... below ``count``, decoded once, in order.

    Frames in between are decoded but not converted to images; frames from ``count`` on are not read
    (the dataset's videos may run a few frames past their poses).

    Raises:
        FileNotFoundError: no such file.
        DatasetError: OpenCV cannot open it, it ends before ``count`` frames, or its frame size changes.
    """
    import cv2

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: video not found")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise DatasetError(f"{path}: OpenCV cannot open this video")
        shape = None
        for index in range(count):
            if index % stride:
                ok, frame = capture.grab(), None
            else:
                ok, frame = capture.read()
            if not ok:
                raise DatasetError(f"{path}: the video ends after {index} frames; its poses have {count}")
            if frame is None:
                continue
            if shape is None:
                shape = frame.shape
            elif frame.shape != shape:
                raise DatasetError(f"{path}: frame {index} is {frame.shape}, earlier frames {shape}")
            yield index, frame
    finally:
        capture.release()
