"""Absolute root depth from the box size: RootNet's geometric prior.

A single crop fixes a person's pose relative to the root joint but not how far away they are.
RootNet (Moon et al., ICCV 2019) starts from a pinhole prior: a person whose box covers
``A_real`` mm^2 in the world and ``A_box`` px^2 in the image, seen with focal lengths fx, fy px,
is at depth

    k = sqrt(fx * fy * A_real / A_box)  mm,

with ``A_real = 2000 mm x 2000 mm`` and ``A_box`` the area of the processed box (clipped, grown
to the input aspect ratio and by 1.25, exactly the crop box). RootNet then corrects k by a learned
factor; without RootNet this package uses k itself. On the 6,352 MS COCO val people of the
release's ``bbox_root_coco_output.json`` (f = 1500 px), RootNet's depth divided by k has median
0.91 and interquartile range 0.74 to 1.06: the prior is right to about 20% for most people, and
worst for children, sitting or truncated people, whose boxes are not the size of a standing adult.
Root-relative poses do not depend on it at all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_FOCAL = 1500.0  # px, the release's demo (and its MS COCO test) setting
REAL_AREA_MM2 = 2000.0 * 2000.0


def estimate_root_depth(
    crop_boxes: np.ndarray, focal: float | Sequence[float] = DEFAULT_FOCAL, real_area: float = REAL_AREA_MM2
) -> np.ndarray:
    """RootNet's prior depth k (mm) for processed person boxes.

    Args:
        crop_boxes: (N, 4) or (4,) [x, y, w, h] px, the processed (crop) boxes.
        focal: f or (fx, fy) px.
        real_area: A_real in mm^2.

    Returns:
        (N,) or scalar float64 mm; NaN where the box has no area.
    """
    boxes = np.asarray(crop_boxes, dtype=np.float64)
    f = np.broadcast_to(np.asarray(focal, dtype=np.float64).reshape(-1), (2,))
    area = boxes[..., 2] * boxes[..., 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = np.sqrt(f[0] * f[1] * real_area / area)
    return np.where(area > 0, depth, np.nan)
