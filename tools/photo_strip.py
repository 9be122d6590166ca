"""Draw a network's skeletons on the shared real photos, side by side, for the README and model cards.

    python tools/photo_strip.py --checkpoint xs-synthetic --out docs/images/starter_real_photos.jpg

The four single-person photos go through ``PoseEstimator`` with no boxes (the default person finder);
the skiers photo takes the five boxes and root depths the release's demo used (its NOTICE.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from convnextpose import PoseEstimator
from convnextpose.image import read_image

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "images"
SINGLES = [f"single_person_{i}.png" for i in (1, 2, 3, 4)]
SKIER_BOXES = [
    [139.41, 102.25, 222.39, 241.57],
    [287.17, 61.52, 74.88, 165.61],
    [540.04, 48.81, 99.96, 223.36],
    [372.58, 170.84, 266.63, 217.19],
    [0.5, 43.74, 90.1, 220.09],
]
SKIER_DEPTHS = [11250.57, 15522.87, 11831.38, 8852.56, 12572.60]
HEIGHT = 320


def tile(image: np.ndarray) -> np.ndarray:
    scale = HEIGHT / image.shape[0]
    return cv2.resize(image, (round(image.shape[1] * scale), HEIGHT), interpolation=cv2.INTER_AREA)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--label", default=None, help="text in the corner (default: the checkpoint)")
    args = parser.parse_args()
    estimator = PoseEstimator(args.checkpoint)
    tiles = []
    for name in SINGLES:
        image = read_image(SHARED / name)
        tiles.append(tile(estimator.predict(image).plot(image)))
    skiers = read_image(SHARED / "multi_person_skiers.jpg")
    tiles.append(tile(estimator.predict(skiers, SKIER_BOXES, SKIER_DEPTHS).plot(skiers)))
    strip = np.concatenate(tiles, axis=1)
    label = args.label or Path(args.checkpoint).name
    cv2.putText(strip, label, (8, HEIGHT - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 3, cv2.LINE_AA)
    cv2.putText(strip, label, (8, HEIGHT - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, cv2.cvtColor(strip, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {args.out} ({strip.shape[1]}x{strip.shape[0]})")


if __name__ == "__main__":
    main()
