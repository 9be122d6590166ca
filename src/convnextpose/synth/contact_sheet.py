"""A contact sheet of sample renders (``docs/images/anny_samples.png``).

``python -m convnextpose.synth.contact_sheet docs/images/anny_samples.png --seed 0`` renders a 4 x 3 grid: Human3.6M,
phone-on-the-floor, phone-on-a-tripod and MuPoTS-style cameras in turn, random people, poses, rooms and lights, each
tile the crop around the people as the trainer would see it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

PRESETS = ("h36m", "phone_floor", "phone_tripod", "mupots")


def make_contact_sheet(
    seed: int = 0, tile: int = 240, cols: int = 4, rows: int = 3, labels: bool = True, bodies: str = "anny"
) -> np.ndarray:
    """(rows * tile, cols * tile, 3) uint8 RGB sheet of crops of random frames."""
    import cv2

    from .frames import FrameSampler
    from .render.frame import render_frame

    scene = FrameSampler(seed=seed, bodies=bodies)
    tiles = []
    for i in range(rows * cols):
        preset = PRESETS[i % len(PRESETS)]
        n = 3 if preset == "mupots" else 1
        size = (1024, 1024) if preset == "mupots" else None
        frame = scene.sample_frame(num_people=n, camera=preset, image_size=size)
        boxes = np.array([frame.person_box(k, 1.0, square=False) for k in range(n)], float)
        x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
        x1, y1 = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
        side = max(x1 - x0, y1 - y0) * 1.2
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        crop = (int(cx - side / 2), int(cy - side / 2), int(side), int(side))
        img = render_frame(frame, crop=crop, out_size=(tile, tile)).rgb.copy()
        if labels:
            text = f"{preset}: {', '.join(dict.fromkeys(frame.info['poses']))}"
            cv2.putText(img, text, (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 2, cv2.LINE_AA)
            cv2.putText(img, text, (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(img)
    return np.concatenate([np.concatenate(tiles[r * cols : (r + 1) * cols], 1) for r in range(rows)], 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m convnextpose.synth.contact_sheet", description=__doc__.splitlines()[0]
    )
    parser.add_argument("output", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tile", type=int, default=240)
    parser.add_argument("--bodies", choices=("capsule", "anny"), default="anny")
    args = parser.parse_args(argv)
    import cv2

    from ..atomic import atomic_path

    sheet = make_contact_sheet(args.seed, args.tile, bodies=args.bodies)
    with atomic_path(args.output, keep_suffix=True) as tmp:  # OpenCV picks the format by the suffix
        if not cv2.imwrite(str(tmp), sheet[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise OSError(f"could not write {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
