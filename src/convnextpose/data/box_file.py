"""Person boxes from a COCO-style detections file: the demo's ``--boxes`` and label-free image folders."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class BoxEntry:
    """One detection: [x, y, w, h] px, its score and root depth (mm) where the file gives them."""

    box: list[float]
    score: float | None = None
    root_depth: float | None = None


@dataclass
class BoxesFile:
    """Person boxes from a COCO-style file, looked up by image file name, image id or frame index.

    Accepted layouts: a list of ``{"image_id" or "file_name", "bbox": [x, y, w, h], "score",
    "root_depth" (mm) or "root_cam": [X, Y, Z] (mm, RootNet's output)}``, or a dict with that
    list under ``"annotations"`` and optionally COCO ``"images"`` (``id`` -> ``file_name``).
    An ``image_id`` matches a file whose stem equals it (``"12"`` or ``12`` matches
    ``000012.jpg``) or, for videos, the frame index. A ``file_name`` with folders
    (``"vtest/frame_000005.jpg"``) matches that path relative to the image folder first, then the bare name.
    """

    path: Path
    by_path: dict[str, list[BoxEntry]] = field(default_factory=dict)
    by_name: dict[str, list[BoxEntry]] = field(default_factory=dict)
    by_id: dict[str, list[BoxEntry]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | os.PathLike, score_threshold: float = 0.0) -> BoxesFile:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"boxes file not found: {path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a JSON file ({exc})") from None
        id_to_name: dict[str, str] = {}
        if isinstance(data, Mapping):
            for image in data.get("images", []) or []:
                if isinstance(image, Mapping) and "id" in image and "file_name" in image:
                    id_to_name[str(image["id"])] = Path(str(image["file_name"])).name
            data = data.get("annotations")
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a list of detections (or a dict with 'annotations')")
        out = cls(path)
        for i, item in enumerate(data):
            where = f"{path}: entry {i}"
            if not isinstance(item, Mapping) or "bbox" not in item:
                raise ValueError(f"{where}: expected an object with 'bbox' [x, y, w, h]")
            box = item["bbox"]
            if not isinstance(box, Sequence) or len(box) != 4:
                raise ValueError(f"{where}: 'bbox' must be [x, y, w, h], got {box!r}")
            score = item.get("score")
            if score is not None and float(score) < score_threshold:
                continue
            depth = item.get("root_depth")
            if depth is None and isinstance(item.get("root_cam"), Sequence) and len(item["root_cam"]) == 3:
                depth = item["root_cam"][2]
            entry = BoxEntry(
                [float(v) for v in box],
                None if score is None else float(score),
                None if depth is None else float(depth),
            )
            if "file_name" in item:
                relative = Path(str(item["file_name"]))
                out.by_name.setdefault(relative.name, []).append(entry)
                if len(relative.parts) > 1:
                    out.by_path.setdefault(relative.as_posix(), []).append(entry)
            elif "image_id" in item:
                key = str(item["image_id"])
                if key in id_to_name:
                    out.by_name.setdefault(id_to_name[key], []).append(entry)
                else:
                    out.by_id.setdefault(_id_key(key), []).append(entry)
            else:
                raise ValueError(f"{where}: needs 'image_id' or 'file_name'")
        return out

    def lookup(self, name: str | None = None, frame: int | None = None) -> list[BoxEntry] | None:
        """Entries for an image file name (or path relative to the image folder) or a video frame index; None if
        the file has none."""
        if name is not None:
            if Path(name).as_posix() in self.by_path:
                return self.by_path[Path(name).as_posix()]
            base = Path(name).name
            if base in self.by_name:
                return self.by_name[base]
            for key in (Path(name).stem, base):
                if _id_key(key) in self.by_id:
                    return self.by_id[_id_key(key)]
        if frame is not None and _id_key(str(frame)) in self.by_id:
            return self.by_id[_id_key(str(frame))]
        return None


def _id_key(value: str) -> str:
    """Numeric ids compare as integers ('000012' == '12'); others as strings."""
    return str(int(value)) if value.isdigit() else value
