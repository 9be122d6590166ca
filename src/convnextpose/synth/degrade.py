"""Camera and compression artefacts on rendered images: exposure, white balance, blur, motion blur, noise, JPEG,
vignetting."""

from __future__ import annotations

import functools
import statistics
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Degradation:
    """Camera and compression artefacts applied to a rendered sRGB image (all drawn by :func:`sample_degradation`)."""

    exposure: float = 1.0
    gamma: float = 1.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    blur_sigma: float = 0.0
    motion_length: float = 0.0
    motion_angle: float = 0.0
    noise_sigma: float = 0.0
    jpeg_quality: int = 0
    vignette: float = 0.0
    seed: int = 0


def sample_degradation(rng: np.random.Generator, strength: float = 1.0) -> Degradation:
    """Random degradations; ``strength`` 0 gives none, 1 the default mix (mild on most images, heavy on some)."""
    if strength <= 0:
        return Degradation()
    r = rng.random(6)
    return Degradation(
        exposure=float(np.exp(rng.normal(0, 0.25 * strength))),
        gamma=float(np.exp(rng.normal(0, 0.08 * strength))),
        white_balance=tuple(float(v) for v in np.exp(rng.normal(0, 0.04 * strength, 3))),
        blur_sigma=float(rng.uniform(0.4, 1.6) * strength) if r[0] < 0.35 else 0.0,
        motion_length=float(rng.uniform(3, 11) * strength) if r[1] < 0.15 else 0.0,
        motion_angle=float(rng.uniform(0, 180)),
        noise_sigma=float(rng.uniform(0.5, 6.0) * strength) if r[2] < 0.7 else 0.0,
        jpeg_quality=int(rng.integers(35, 96)) if r[3] < 0.6 * min(strength, 1.0) else 0,
        vignette=float(rng.uniform(0.1, 0.4) * strength) if r[4] < 0.3 else 0.0,
        seed=int(rng.integers(2**31)),
    )


def degrade(rgb: np.ndarray, deg: Degradation, jpeg: bool = True) -> np.ndarray:
    """Apply exposure, white balance, vignetting, blur, motion blur, sensor noise and JPEG to (H, W, 3) uint8.

    Args:
        jpeg: also compress and decompress with the degradation's JPEG quality; False leaves that to whoever encodes
            the image (the dataset writers encode each file once, at the lower of its quality and the writer's).
    """
    # Exposure, white balance and gamma are one lookup table per channel.
    levels = np.arange(256, dtype=np.float32)[:, None] / 255.0
    lut = np.clip(levels * deg.exposure * np.asarray(deg.white_balance, np.float32), 0, 1) ** deg.gamma
    out = cv2.LUT(np.ascontiguousarray(rgb), np.clip(lut * 255 + 0.5, 0, 255).astype(np.uint8)[None])
    h, w = out.shape[:2]
    if deg.blur_sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), deg.blur_sigma)
    if deg.motion_length >= 2:
        k = int(round(deg.motion_length)) | 1
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2] = 1.0
        rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), deg.motion_angle, 1.0)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        out = cv2.filter2D(out, -1, kernel / max(kernel.sum(), 1e-6))
    if deg.vignette > 0:
        gain = 1 - np.float32(deg.vignette) * _vignette(h, w)
        out = cv2.multiply(out, cv2.merge([gain, gain, gain]), dtype=cv2.CV_8U)
    if deg.noise_sigma > 0:
        # Signal-dependent (shot) plus constant (read) noise, in 8-bit levels: one sigma per level.
        levels = np.arange(256, dtype=np.float32)
        sigma = cv2.LUT(out, np.float32(deg.noise_sigma) * np.sqrt(0.3 + levels * np.float32(1 / 255)))
        out = cv2.add(out, cv2.multiply(_noise(h, w, deg.seed), sigma), dtype=cv2.CV_8U)
    if jpeg and deg.jpeg_quality:
        ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, deg.jpeg_quality])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
    return out


# Standard Gaussian quantiles at (i + 0.5) / 256: a random byte through this table is a standard normal value
# rounded to one of 256 levels (up to +-2.9 sd), as good as exact for noise of a few 8-bit levels.
_GAUSS_LEVELS = np.array([statistics.NormalDist().inv_cdf((i + 0.5) / 256) for i in range(256)], np.float32)


#: How far (px) a frame's noise window may shift inside the process's noise field: 129^2 different windows.
_NOISE_MARGIN = 128


def _noise(h: int, w: int, seed: int) -> np.ndarray:
    """(h, w, 3) float32 standard Gaussian noise (256 levels): the window at a seeded random offset of one larger
    field per image size (:func:`_noise_field`). Drawing the field once and reading windows of it costs about half
    of what drawing every frame's noise did; no two frames of a sequence are likely to get the same window."""
    field = _noise_field(h, w)
    dy, dx = np.random.default_rng(seed).integers(0, _NOISE_MARGIN + 1, 2)
    return field[dy : dy + h, dx : dx + w]


@functools.lru_cache(maxsize=2)
def _noise_field(h: int, w: int) -> np.ndarray:
    """(h + margin, w + margin, 3) float32 standard Gaussian noise (256 levels), from one random byte per value
    (OpenCV's generator, fixed seed): several times faster than drawing normal deviates."""
    h, w = h + _NOISE_MARGIN, w + _NOISE_MARGIN
    count = h * w * 3
    words = np.empty((count + 1) // 2, np.uint16)
    cv2.setRNGSeed(12345)
    cv2.randu(words, 0, 65536)
    return cv2.LUT(words.view(np.uint8)[:count].reshape(h, w, 3), _GAUSS_LEVELS)


@functools.lru_cache(maxsize=4)
def _vignette(h: int, w: int) -> np.ndarray:
    """(h, w) float32 darkening profile of vignetting: 0 at the centre, 1 from the corners' radius on."""
    xx = ((np.arange(w, dtype=np.float32) - w / 2) / (w / 2)) ** 2
    yy = ((np.arange(h, dtype=np.float32) - h / 2) / (h / 2)) ** 2
    return np.clip((yy[:, None] + xx[None]) / 2, 0, 1)
