"""Camera and compression artefacts on rendered images: exposure, white balance, blur, motion blur, noise, JPEG,
vignetting."""

from __future__ import annotations

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


def degrade(rgb: np.ndarray, deg: Degradation) -> np.ndarray:
    """Apply exposure, white balance, vignetting, blur, motion blur, sensor noise and JPEG to (H, W, 3) uint8."""
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
    if deg.vignette > 0 or deg.noise_sigma > 0:
        img = out.astype(np.float32)
        if deg.vignette > 0:
            xx = ((np.arange(w, dtype=np.float32) - w / 2) / (w / 2)) ** 2
            yy = ((np.arange(h, dtype=np.float32) - h / 2) / (h / 2)) ** 2
            img *= (1 - np.float32(deg.vignette) * np.clip((yy[:, None] + xx[None]) / 2, 0, 1))[..., None]
        if deg.noise_sigma > 0:
            rng = np.random.default_rng(deg.seed)
            # Signal-dependent (shot) plus constant (read) noise, in 8-bit levels.
            sigma = np.float32(deg.noise_sigma) * np.sqrt(0.3 + img * np.float32(1 / 255))
            img += rng.standard_normal(img.shape, dtype=np.float32) * sigma
        out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    if deg.jpeg_quality:
        ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, deg.jpeg_quality])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
    return out
