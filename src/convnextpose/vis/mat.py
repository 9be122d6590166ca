"""MATLAB ``.mat`` exports read by the release's MuPoTS-3D evaluation scripts.

The release hands its predictions to MATLAB as ``preds_2d_kpt_mupots.mat`` and
``preds_3d_kpt_mupots.mat``: one variable per image, named ``TS<k>_img_<6-digit frame>``, holding
a (people, J, 2) array of pixel joints or a (people, J, 3) array of camera-frame mm.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

_MATLAB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


def mupots_key(sequence: int, frame: int) -> str:
    """Variable name of a MuPoTS-3D image, e.g. ``mupots_key(3, 12) == "TS3_img_000012"``."""
    return f"TS{int(sequence)}_img_{int(frame):06d}"


def save_mat_predictions(path: str | os.PathLike, predictions: Mapping[str, np.ndarray]) -> Path:
    """Write ``{name: (people, J, C) array}`` as a MATLAB v5 ``.mat`` file (atomically).

    Args:
        path: output file, e.g. ``preds_3d_kpt_mupots.mat``.
        predictions: per image name (a valid MATLAB identifier such as :func:`mupots_key`), an
            array of shape (people, J, 2) (px) or (people, J, 3) (mm); a (J, C) array is taken
            as one person. An image with nobody gives a (0, J, C) array.

    Raises:
        ValueError: a name MATLAB cannot use, or an array that is not (people, J, C).
    """
    from scipy.io import savemat

    out: dict[str, np.ndarray] = {}
    for name, values in predictions.items():
        if not _MATLAB_NAME.match(name):
            raise ValueError(f"{name!r} is not a MATLAB variable name (a letter, then letters, digits, _; <= 63)")
        array = np.asarray(values, dtype=np.float64)
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3 or array.shape[2] not in (2, 3):
            raise ValueError(f"{name}: expected (people, J, 2 or 3), got shape {array.shape}")
        out[name] = array
    from ..atomic import atomic_path

    with atomic_path(path) as tmp:
        savemat(str(tmp), out, do_compression=True, appendmat=False)
    return Path(path)


def load_mat_predictions(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a file of :func:`save_mat_predictions` back as ``{name: (people, J, C) float64}``."""
    from scipy.io import loadmat

    raw = loadmat(str(path))
    return {k: np.asarray(v, dtype=np.float64) for k, v in raw.items() if not k.startswith("__")}
