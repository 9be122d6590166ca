"""The Anny parametric body (NAVER Labs, Apache-2.0 code, CC0 MakeHuman assets) behind a small NumPy interface.

Anny's own frame is kept as the *body frame*: metres there, converted to mm here; X is the person's left, Y points
backwards (the face looks along -Y), Z is up, and the origin is the root bone's head (between the hips).

Anny builds its model data on first use (about 1-2 minutes on 2 cores) and caches about 800 MB of safetensors files;
the Warp skinning kernel (compiled once, a few seconds) is cached too. Both go to the project cache folder
(:func:`anny_cache_dir`), never to the home directory. Anny runs offline: the wheel ships every asset the full-body
model needs (only the SMPL/SMPL-X transfer data is downloaded, and this package never asks for it).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import INSTALL_HINT

logger = logging.getLogger(__name__)

ANNY_VERSION = "0.6.2"
#: Anny's default phenotype parameters, each in [0, 1] (gender 0 = male, 1 = female; age 0.5 ~ 11 y, 0.8 ~ 40 y).
PHENOTYPES = ("gender", "age", "muscle", "weight", "height", "proportions")


def anny_cache_dir() -> Path:
    """Where Anny's built model data and Warp kernels are cached.

    ``$CONVNEXTPOSE_CACHE/anny`` when that variable is set, else ``<repo>/.cache/anny`` for a source checkout, else
    ``~/.cache/convnextpose/anny`` for an installed wheel (there is no repository folder to use then).
    """
    if os.environ.get("CONVNEXTPOSE_CACHE"):
        return Path(os.environ["CONVNEXTPOSE_CACHE"]) / "anny"
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "convnextpose").is_dir():
            return parent / ".cache" / "anny"
    return Path.home() / ".cache" / "convnextpose" / "anny"


def import_anny():
    """Import the ``anny`` package, or raise ImportError with the install hint."""
    try:
        import anny
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(INSTALL_HINT) from err
    return anny


def _configure_caches(cache_dir: Path) -> None:
    """Point Anny's model-data cache and Warp's kernel cache into ``cache_dir`` (before Warp initialises)."""
    import anny.paths

    cache_dir.mkdir(parents=True, exist_ok=True)
    anny.paths.set_anny_cache_path(cache_dir)
    try:
        import warp
    except ImportError:
        return
    warp.config.kernel_cache_dir = str(cache_dir / "warp")
    warp.config.quiet = True


@dataclass
class BodyBatch:
    """Posed bodies from one batched forward pass, in the body frame (mm, Z up, facing -Y).

    Attributes:
        vertices: (B, V, 3) float32 posed vertices.
        bone_heads: (B, J, 3) float32 posed bone heads (J = 104 bones).
        bone_rotations: (B, J, 3, 3) float32 world orientation of each posed bone.
        rest_vertices: (B, V, 3) float32 vertices in the rest A-pose (used for clothing regions and patterns).
        rest_bone_heads: (B, J, 3) float32 bone heads in the rest pose.
        phenotypes: (B, 6) float32 phenotype parameters in :data:`PHENOTYPES` order.
    """

    vertices: np.ndarray
    bone_heads: np.ndarray
    bone_rotations: np.ndarray
    rest_vertices: np.ndarray
    rest_bone_heads: np.ndarray
    phenotypes: np.ndarray

    def __len__(self) -> int:
        return len(self.vertices)

    def take(self, index: int | np.ndarray | slice) -> BodyBatch:
        """A sub-batch (an int keeps a batch of one)."""
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1)
        return BodyBatch(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


class AnnyBody:
    """Anny loaded once, with shape sampling and batched posing.

    Args:
        cache_dir: model-data cache; default :func:`anny_cache_dir`.
        skinning: ``"auto"`` (Warp's linear blend skinning when Warp imports, ~1 ms per body in batches of 64),
            ``"warp_lbs"`` or ``"lbs"`` (pure torch, dense, ~2.5 ms per body).
        num_threads: torch intra-op threads to use while posing (None leaves torch's setting alone).

    Raises:
        ImportError: anny is not installed (message has the install hint).
    """

    def __init__(self, cache_dir: str | Path | None = None, skinning: str = "auto", num_threads: int | None = None):
        if skinning not in ("auto", "warp_lbs", "lbs"):
            raise ValueError(f"skinning must be 'auto', 'warp_lbs' or 'lbs', got {skinning!r}")
        anny = import_anny()
        import torch

        self.cache_dir = Path(cache_dir) if cache_dir is not None else anny_cache_dir()
        _configure_caches(self.cache_dir)
        if skinning == "auto":
            try:
                import warp  # noqa: F401

                skinning = "warp_lbs"
            except ImportError:
                skinning = "lbs"
        self.num_threads = num_threads
        with self._threads():
            logger.info("loading Anny (first build takes 1-2 minutes; cache %s)", self.cache_dir)
            self.model = anny.Anny(skinning_method=skinning).to(torch.float32)
            self.model.eval()
            coco = anny.KeypointsRegressor.coco(self.model)
        self.skinning = skinning
        self.bone_names: tuple[str, ...] = tuple(self.model.bone_labels)
        self.bone_parents = np.asarray(self.model.bone_parents, dtype=np.int64)
        self.faces = self.model.faces.cpu().numpy().astype(np.int32)
        weights = self.model.vertex_bone_weights.cpu().numpy()
        indices = self.model.vertex_bone_indices.cpu().numpy()
        #: (V,) index of the bone with the largest skinning weight of each vertex.
        self.dominant_bone = indices[np.arange(len(indices)), weights.argmax(1)].astype(np.int32)
        #: COCO-style surface keypoints (nose, eyes, ears, toes, heels, ...) as (K, V) vertex weights.
        self.keypoint_names: tuple[str, ...] = tuple(coco.labels)
        self.keypoint_weights = coco.regression_weights.cpu().numpy().astype(np.float32)
        self._bone_index = {n: i for i, n in enumerate(self.bone_names)}
        self._shape_distribution = None
        self._dominant_names = np.asarray(self.bone_names)[self.dominant_bone]
        self._masks: dict[tuple, np.ndarray] = {}
        # Keypoints are averages of a few hundred vertices: keep them sparse.
        self._kp_index = [np.flatnonzero(w) for w in self.keypoint_weights]
        self._kp_weight = [w[i] for w, i in zip(self.keypoint_weights, self._kp_index)]

    @property
    def num_bones(self) -> int:
        return len(self.bone_names)

    @property
    def num_vertices(self) -> int:
        return int(self.model.template_vertices.shape[0])

    def bone(self, name: str) -> int:
        """Index of a bone by name; ValueError listing the names if unknown."""
        if name not in self._bone_index:
            raise ValueError(f"unknown Anny bone {name!r}; bones are {list(self.bone_names)}")
        return self._bone_index[name]

    def keypoint(self, name: str) -> int:
        return self.keypoint_names.index(name)

    def keypoints(self, vertices: np.ndarray, names: list[str] | tuple[str, ...]) -> np.ndarray:
        """Anny's surface keypoints (..., K, 3) from vertices (..., V, 3), same frame and unit."""
        out = []
        for name in names:
            k = self.keypoint(name)
            out.append(np.tensordot(vertices[..., self._kp_index[k], :], self._kp_weight[k], axes=([-2], [0])))
        return np.stack(out, axis=-2)

    def vertex_mask(self, prefixes: str | tuple[str, ...], side: str | None = None) -> np.ndarray:
        """(V,) bool: vertices whose dominant bone name starts with ``prefixes`` (and ends with ``.{side}``)."""
        key = (prefixes, side)
        if key not in self._masks:
            mask = np.char.startswith(self._dominant_names, prefixes if isinstance(prefixes, str) else prefixes[0])
            for prefix in prefixes[1:] if not isinstance(prefixes, str) else ():
                mask |= np.char.startswith(self._dominant_names, prefix)
            if side is not None:
                mask &= np.char.endswith(self._dominant_names, f".{side}")
            self._masks[key] = mask
        return self._masks[key]

    def _threads(self):
        import contextlib

        import torch

        if self.num_threads is None:
            return contextlib.nullcontext()

        @contextlib.contextmanager
        def scope():
            old = torch.get_num_threads()
            torch.set_num_threads(self.num_threads)
            try:
                yield
            finally:
                torch.set_num_threads(old)

        return scope()

    def sample_phenotypes(
        self, n: int, rng: np.random.Generator, age_range: tuple[float, float] = (18.0, 75.0)
    ) -> np.ndarray:
        """Random body shapes: (n, 6) float32 phenotypes in :data:`PHENOTYPES` order.

        Ages are uniform in ``age_range`` (years); sex is uniform in [0, 1] (blends included); height, weight, muscle
        and proportions follow Anny's age- and sex-conditioned distributions calibrated on WHO growth data, which for
        adults gives statures of about 1.45-1.90 m and BMIs of about 16-35.
        """
        import torch
        from anny.shape_distribution import SimpleShapeDistribution

        low, high = float(age_range[0]), float(age_range[1])
        if not 0.0 <= low < high <= 90.0:
            raise ValueError(f"age_range must satisfy 0 <= low < high <= 90 years, got {age_range}")
        if self._shape_distribution is None:
            self._shape_distribution = SimpleShapeDistribution(self.model)
        dist = self._shape_distribution
        dist.morphological_age_distribution = torch.distributions.Uniform(torch.tensor(low), torch.tensor(high))
        # torch.distributions draws from the global generator: fork it so the numpy seed alone decides the sample.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.integers(2**62)))
            _, kwargs = dist.sample(n)
        return np.stack([kwargs[k].float().numpy() for k in PHENOTYPES], axis=1).astype(np.float32)

    def _blendshape_coefficients(self, phenotypes: np.ndarray):
        import torch

        ph = torch.as_tensor(np.asarray(phenotypes, dtype=np.float32))
        tensors = self.model.get_tensor_inputs(None, {k: ph[:, i] for i, k in enumerate(PHENOTYPES)}, None, None)
        return self.model._get_phenotype_blendshape_coefficients(*tensors[1:])

    def rest(self, phenotypes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rest-pose (A-pose) vertices (B, V, 3) and bone heads (B, J, 3), float32 mm, body frame."""
        import torch

        with torch.inference_mode(), self._threads():
            out = self.model.get_rest_model(self._blendshape_coefficients(phenotypes))
        return (
            out["rest_vertices"].numpy() * 1000.0,
            out["rest_bone_heads"].numpy() * 1000.0,
        )

    def reference_heads(self, phenotypes: np.ndarray) -> np.ndarray:
        """Bone heads (B, J, 3) float32 mm of the *reference* pose, the pose that identity rotations produce.

        Anny's ``local-ref`` rotations are relative to this pose, which differs slightly from the mesh's rest pose
        (:meth:`rest`), so pose angles must be measured on it. The root is at the origin, as in :meth:`forward`.
        """
        import torch

        with torch.inference_mode(), self._threads():
            rest = self.model.get_rest_model(self._blendshape_coefficients(phenotypes))
            b = rest["rest_bone_poses"].shape[0]
            identity = torch.eye(4, dtype=torch.float32).expand(b, self.num_bones, 4, 4)
            _, poses = self.model.get_bone_transforms(identity, rest["rest_bone_poses"])
        return poses[..., :3, 3].numpy() * 1000.0

    def forward(self, rotations: np.ndarray, phenotypes: np.ndarray, batch_size: int = 64) -> BodyBatch:
        """Pose bodies by per-bone rotations.

        Args:
            rotations: (B, J, 3, 3) rotation of each bone relative to its rest pose, in Anny's ``local-ref``
                parameterisation: world-aligned axes (X left, Y back, Z up) carried along by the parent bones.
                Identity everywhere gives the rest A-pose.
            phenotypes: (B, 6) or (6,) values in [0, 1] (see :meth:`sample_phenotypes`).
            batch_size: bodies per forward pass (memory stays bounded for long sequences).

        Returns:
            :class:`BodyBatch` in mm, body frame.
        """
        import torch

        rotations = np.asarray(rotations, dtype=np.float32)
        if rotations.ndim != 4 or rotations.shape[1:] != (self.num_bones, 3, 3):
            raise ValueError(f"rotations must be (B, {self.num_bones}, 3, 3), got {rotations.shape}")
        phenotypes = np.array(np.broadcast_to(np.asarray(phenotypes, np.float32), (len(rotations), len(PHENOTYPES))))
        parts = []
        with torch.inference_mode(), self._threads():
            for start in range(0, len(rotations), batch_size):
                rot = torch.from_numpy(np.ascontiguousarray(rotations[start : start + batch_size]))
                pose = torch.zeros(rot.shape[:2] + (4, 4), dtype=torch.float32)
                pose[..., :3, :3] = rot
                pose[..., 3, 3] = 1.0
                ph = torch.from_numpy(np.ascontiguousarray(phenotypes[start : start + batch_size]))
                out = self.model(pose, {k: ph[:, i] for i, k in enumerate(PHENOTYPES)})
                parts.append(
                    BodyBatch(
                        vertices=out["vertices"].numpy() * 1000.0,
                        bone_heads=out["bone_poses"][..., :3, 3].numpy() * 1000.0,
                        bone_rotations=out["bone_poses"][..., :3, :3].numpy().copy(),
                        rest_vertices=out["rest_vertices"].numpy() * 1000.0,
                        rest_bone_heads=out["rest_bone_heads"].numpy() * 1000.0,
                        phenotypes=np.asarray(phenotypes[start : start + batch_size]),
                    )
                )
        if len(parts) == 1:
            return parts[0]
        return BodyBatch(*(np.concatenate([getattr(p, f) for p in parts]) for f in BodyBatch.__dataclass_fields__))


def prune_anny_cache(cache_dir: str | Path | None = None) -> int:
    """Delete Anny's intermediate build files, keeping what loading needs; returns the bytes freed.

    A first build leaves about 800 MB of safetensors files, but once the compacted full-body model data
    (``build_compact_model_data_*.safetensors``, about 50 MB) exists, Anny loads from it alone. Handy before caching
    the folder in CI. Anny rebuilds the intermediates if a different model configuration is ever requested.
    """
    root = Path(cache_dir) if cache_dir is not None else anny_cache_dir()
    freed = 0
    for folder in sorted(root.glob("v*")):
        if not any(folder.glob("build_compact_model_data_*.safetensors")):
            continue
        for path in list(folder.glob("load_data_*.safetensors")) + list(folder.glob("build_model_data_*.safetensors")):
            freed += path.stat().st_size
            path.unlink()
    return freed


_BODY_CACHE: dict[tuple, AnnyBody] = {}


def load_anny(cache_dir: str | Path | None = None, skinning: str = "auto") -> AnnyBody:
    """A process-wide shared :class:`AnnyBody` (loading takes ~1 s once the cache is built)."""
    key = (str(cache_dir), skinning)
    if key not in _BODY_CACHE:
        _BODY_CACHE[key] = AnnyBody(cache_dir=cache_dir, skinning=skinning)
    return _BODY_CACHE[key]
