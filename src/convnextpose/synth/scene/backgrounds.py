"""Real photos as backdrops: a folder of photos without people, behind the synthetic people instead of a generated room.

    backgrounds = Backgrounds("photos/rooms")            # every .jpg, .jpeg and .png below it
    sampler = FrameSampler(seed=0, bodies="anny", backgrounds=backgrounds)
    generate_dataset("human36m", "data/Human36M", bodies="anny", backgrounds="photos/rooms")

A frame takes a random crop of a random photo (with the frame's aspect ratio, 60-100 % of the largest such crop,
sometimes mirrored) resized to the frame. The people stand on an invisible floor that still receives their contact
shadows, and a seat is still drawn under seated people; the photo is not relit. Choices follow the frame's random
generator, so a seed gives the same backdrops whatever the number of worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Backgrounds:
    """A folder of background photos (searched recursively).

    Args:
        folder: the photos' folder.

    Raises:
        FileNotFoundError: the folder does not exist. ValueError: it holds no ``.jpg``, ``.jpeg`` or ``.png`` file.
    """

    folder: Path
    files: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        folder = Path(self.folder)
        object.__setattr__(self, "folder", folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"background photos: no folder {folder}")
        try:
            files = sorted(str(p) for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
        except OSError as err:
            raise ValueError(f"background photos: cannot list {folder}: {err}") from err
        if not files:
            raise ValueError(f"background photos: no {', '.join(SUFFIXES)} file under {folder}")
        object.__setattr__(self, "files", tuple(files))

    def __len__(self) -> int:
        return len(self.files)

    def sample(self, rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
        """A random crop of a random photo resized to ``size`` = (width, height): (H, W, 3) uint8 RGB.

        Raises:
            ValueError: the chosen file cannot be decoded as an image (the message names it).
        """
        path = self.files[int(rng.integers(len(self.files)))]
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None or image.size == 0:
            raise ValueError(f"background photo {path} cannot be read as an image (.jpg, .jpeg or .png)")
        width, height = int(size[0]), int(size[1])
        ih, iw = image.shape[:2]
        # The largest crop with the frame's aspect ratio, then 60-100 % of it, anywhere in the photo.
        scale = min(iw / width, ih / height) * rng.uniform(0.6, 1.0)
        cw, ch = max(1, int(round(width * scale))), max(1, int(round(height * scale)))
        x, y = int(rng.integers(0, iw - cw + 1)), int(rng.integers(0, ih - ch + 1))
        crop = image[y : y + ch, x : x + cw]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        shrink = cw > width
        crop = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        return np.ascontiguousarray(crop[:, :, ::-1])
