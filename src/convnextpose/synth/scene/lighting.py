"""Light and colour: directional key and fill lights, a sky/ground ambient, shading, and the sRGB curve.

Colours are linear RGB floats in [0, 1] until :func:`to_srgb8`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Lighting:
    """Directional key and fill lights plus a sky/ground ambient, in the world frame (linear RGB intensities).

    Attributes:
        key_dir, fill_dir: (3,) unit vectors pointing from the scene towards the light.
        key_color, fill_color, sky_color, ground_color: (3,) linear RGB.
        specular: strength of the key light's highlight; shininess: its Blinn-Phong exponent.
        shadow_strength: how much of the key light the people's soft shadows remove (0-1).
    """

    key_dir: np.ndarray
    key_color: np.ndarray
    fill_dir: np.ndarray
    fill_color: np.ndarray
    sky_color: np.ndarray
    ground_color: np.ndarray
    specular: float = 0.15
    shininess: float = 24.0
    shadow_strength: float = 0.8


def sample_lighting(rng: np.random.Generator, outdoor: bool = False) -> Lighting:
    """Random lighting: key light 20-75 deg above the horizon, warm-to-cool tints, varied contrast."""

    def direction(elev_lo: float, elev_hi: float) -> np.ndarray:
        az, el = rng.uniform(0, 2 * np.pi), np.deg2rad(rng.uniform(elev_lo, elev_hi))
        return np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])

    def tint(spread: float) -> np.ndarray:
        warmth = rng.uniform(-1, 1) * spread  # >0 warm (tungsten), <0 cool (shade, overcast)
        return np.clip(np.array([1 + warmth, 1.0, 1 - warmth]) * rng.uniform(0.95, 1.05, 3), 0.3, 2.0)

    key = rng.uniform(1.6, 3.2) if outdoor else rng.uniform(0.9, 2.2)
    ambient = rng.uniform(0.25, 0.55) if outdoor else rng.uniform(0.3, 0.7)
    sky = ambient * tint(0.12) * (np.array([0.9, 0.95, 1.1]) if outdoor else 1.0)
    return Lighting(
        key_dir=direction(20, 75),
        key_color=key * tint(0.18),
        fill_dir=direction(5, 40),
        fill_color=rng.uniform(0.05, 0.4) * tint(0.15),
        sky_color=sky,
        ground_color=sky * rng.uniform(0.35, 0.7),
        specular=float(rng.uniform(0.03, 0.25)),
        shininess=float(rng.uniform(8, 40)),
        shadow_strength=float(rng.uniform(0.5, 0.9) if outdoor else rng.uniform(0.3, 0.75)),
    )


def shade(
    albedo: np.ndarray,
    normals_world: np.ndarray,
    view_dirs_world: np.ndarray,
    light: Lighting,
    key_visibility: np.ndarray | float = 1.0,
    ambient_occlusion: np.ndarray | float = 1.0,
    specular_scale: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Lambert + hemisphere ambient + Blinn-Phong highlight.

    Args:
        albedo: (K, 3) linear RGB.
        normals_world: (K, 3) unit normals.
        view_dirs_world: (K, 3) unit vectors from the surface towards the camera.
        key_visibility: (K,) 1 where the key light is not shadowed.
        ambient_occlusion: (K,) multiplier of the ambient and fill terms.
        specular_scale: (K,) per-material highlight scale (skin and satin shine, cotton hardly).

    Returns:
        (K, 3) float32 linear RGB radiance.
    """
    n = np.asarray(normals_world, np.float32)
    f32 = np.float32

    def col(x):
        return np.reshape(np.asarray(x, f32), (-1, 1)) if np.ndim(x) else f32(x)

    kv, ao, sp = col(key_visibility), col(ambient_occlusion), col(specular_scale)
    up = 0.5 + 0.5 * n[:, 2:3]
    ground, sky = light.ground_color.astype(f32), light.sky_color.astype(f32)
    ndl = np.maximum(n @ light.key_dir.astype(f32), 0)[:, None]
    fill = np.maximum(n @ light.fill_dir.astype(f32), 0)[:, None]
    irradiance = (ground + (sky - ground) * up + light.fill_color.astype(f32) * fill) * ao
    irradiance += light.key_color.astype(f32) * (ndl * kv)
    out = np.asarray(albedo, f32) * irradiance
    lit = np.flatnonzero(ndl[:, 0] > 0)
    if light.specular > 0 and len(lit):
        half = light.key_dir.astype(f32)[None] + np.asarray(view_dirs_world, f32)[lit]
        half /= np.sqrt(np.einsum("ij,ij->i", half, half))[:, None] + 1e-9
        spec = np.maximum(np.einsum("ij,ij->i", n[lit], half), 0) ** f32(light.shininess)
        scale = (sp[lit, 0] if np.ndim(sp) else sp) * (kv[lit, 0] if np.ndim(kv) else kv)
        out[lit] += (f32(light.specular) * scale * spec)[:, None] * light.key_color.astype(f32)
    return out


def shade_flat(
    albedo: np.ndarray,
    normal_ids: np.ndarray,
    normal_table: np.ndarray,
    light: Lighting,
    key_visibility: np.ndarray,
    ambient_occlusion: np.ndarray,
) -> np.ndarray:
    """Diffuse shading of flat surfaces (walls, floors, box faces): the irradiance depends only on the normal, so it
    is computed once per distinct normal (``normal_table`` (N, 3), indexed by ``normal_ids`` (K,))."""
    n = np.asarray(normal_table, np.float32)
    ambient = light.ground_color + (light.sky_color - light.ground_color) * (0.5 + 0.5 * n[:, 2:3])
    ambient = (ambient + light.fill_color * np.maximum(n @ light.fill_dir, 0)[:, None]).astype(np.float32)
    key = (light.key_color * np.maximum(n @ light.key_dir, 0)[:, None]).astype(np.float32)
    irradiance = ambient[normal_ids] * ambient_occlusion[:, None] + key[normal_ids] * key_visibility[:, None]
    return np.asarray(albedo, np.float32) * irradiance


_SRGB_LUT = None


def to_srgb8(linear: np.ndarray) -> np.ndarray:
    """Linear RGB floats -> sRGB uint8 (soft shoulder above 0.8 so highlights do not clip hard), via a 16-bit LUT."""
    global _SRGB_LUT
    if _SRGB_LUT is None:
        x = np.linspace(0, 1.6, 65536)
        x = np.where(x > 0.8, 0.8 + 0.2 * np.tanh((x - 0.8) / 0.2), x)
        srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(np.maximum(x, 0), 1 / 2.4) - 0.055)
        _SRGB_LUT = np.clip(srgb * 255 + 0.5, 0, 255).astype(np.uint8)
    idx = np.clip(np.asarray(linear, np.float32) * (65535 / 1.6), 0, 65535).astype(np.uint16)
    return _SRGB_LUT[idx]


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (or uint8) -> linear RGB float32."""
    x = np.asarray(srgb, np.float32)
    if np.issubdtype(np.asarray(srgb).dtype, np.integer):
        x = x / 255.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)
