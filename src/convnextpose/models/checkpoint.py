"""Reading and writing checkpoints: released ``snapshot_N.pth.tar`` files and this project's own.

Every load goes through ``torch.load(..., weights_only=True)``, so no pickled code ever runs. The
architecture is read from the tensor shapes, so any released variant loads without being named.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_open
from .convnextpose import VARIANTS, ConvNeXtPose, ModelSpec, normalize_variant_name

FORMAT_NAME = "convnextpose"
FORMAT_VERSION = 1

# Named weights that ship inside the package: name -> file under convnextpose/weights/.
# Each has a model card beside it (MODEL_CARD_<name with _ for ->.md).
PRETRAINED: dict[str, str] = {
    "xs-distilled": "convnextpose_xs_distilled.pth",  # distilled from the release's XS, 256x256 (model card)
    "xs-synthetic": "convnextpose_xs_synthetic.pth",  # the synthetic-only starter, 128x128 (quickstart's init)
}
# What the demo and the app load when no checkpoint is given.
DEFAULT_PRETRAINED = "xs-distilled"


class CheckpointError(ValueError):
    """A file that is not a usable ConvNeXtPose checkpoint; the message says which file and why."""


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` with ``torch.save`` to a temporary file beside ``path``, then rename it.

    A reader (or ``--continue`` after a crash) therefore never sees a half-written file.
    """
    with atomic_open(path, "wb") as handle:
        torch.save(obj, handle)
    return Path(path)


def save_checkpoint(
    path: str | os.PathLike,
    model: ConvNeXtPose,
    epoch: int = 0,
    optimizer_state: Mapping | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Save a self-describing checkpoint atomically.

    The layout keeps the release's keys (``epoch``, ``network``, ``optimizer``) and adds
    ``model_spec`` (the architecture) and ``format``/``version``, plus anything in ``extra``
    (scheduler position, RNG states, config, ...).
    """
    model = getattr(model, "module", model)
    payload: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "epoch": int(epoch),
        "model_spec": model.spec.to_dict(),
        "network": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    if optimizer_state is not None:
        payload["optimizer"] = optimizer_state
    if extra:
        payload.update(extra)
    return atomic_torch_save(payload, path)


def save_weights(path: str | os.PathLike, model: ConvNeXtPose, epoch: int = 0, half: bool = True) -> Path:
    """Weights to ship or hand on: the network and its spec only (no optimiser), floats cast to float16.

    Half the size of a float32 file (XS: 6.8 MB instead of 14); :func:`load_model` returns float32
    again. The joints move by under 0.01 heatmap cells on XS (``tests/models/test_checkpoint.py``).
    """
    model = getattr(model, "module", model)
    state = {
        k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu())
        for k, v in model.state_dict().items()
    }
    payload = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "epoch": int(epoch),
        "model_spec": model.spec.to_dict(),
        "network": state,
    }
    return atomic_torch_save(payload, path)


def read_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint file (or weights shipped with the package, by name) safely (``weights_only=True``).

    Returns:
        The file's top-level dict.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: truncated or not a torch file, or it holds pickled objects other than
            tensors and plain containers.
    """
    path = weights_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except (zipfile.BadZipFile, EOFError, RuntimeError, io.UnsupportedOperation) as exc:
        raise CheckpointError(f"{path}: not a readable torch checkpoint (truncated or wrong format: {exc})") from None
    except Exception as exc:  # pickle.UnpicklingError and friends
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{path}: refused to load: the file holds objects other than tensors and plain containers "
            f"and is only read with weights_only=True ({first_line})"
        ) from None
    if isinstance(obj, Mapping) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return {"network": dict(obj)}
    if not isinstance(obj, Mapping) or "network" not in obj and "state_dict" not in obj and "model" not in obj:
        kind = type(obj).__name__
        keys = sorted(obj)[:8] if isinstance(obj, Mapping) else []
        raise CheckpointError(
            f"{path}: expected a state dict or a dict with a 'network' entry, got a {kind}"
            + (f" with keys {keys}" if keys else "")
        )
    return dict(obj)


def weights_path(path: str | os.PathLike) -> Path:
    """The file of a checkpoint argument: a name of :data:`PRETRAINED` (weights inside the package) or a path."""
    if str(path) in PRETRAINED:
        return Path(__file__).resolve().parent.parent / "weights" / PRETRAINED[str(path)]
    return Path(path)


def resolve_weights(checkpoint: str | os.PathLike | None, weights_dir: str | os.PathLike | None = None) -> str:
    """What a ``--checkpoint`` argument names: the one place the default weights are chosen.

    Args:
        checkpoint: a file (checkpoint, ``.onnx``, ``.tflite``), a name of :data:`PRETRAINED`, or None for
            the default (:data:`DEFAULT_PRETRAINED`) when it is installed.
        weights_dir: where shipped weights live (default: the package's ``weights/``).

    Returns:
        The path as a string, or the shipped name.

    Raises:
        ValueError: None given and the default weights are not installed (the message says what to pass).
        FileNotFoundError: neither an existing file nor a shipped name (the message lists the names).
    """
    if checkpoint is None:
        if DEFAULT_PRETRAINED in PRETRAINED:
            folder = Path(weights_dir) if weights_dir is not None else weights_path(DEFAULT_PRETRAINED).parent
            if (folder / PRETRAINED[DEFAULT_PRETRAINED]).is_file():
                return DEFAULT_PRETRAINED
        raise ValueError(
            "no weights given: pass --checkpoint PATH (a release snapshot_N.pth.tar, a checkpoint of this package, "
            f"or an exported .onnx/.tflite file); the default weights {DEFAULT_PRETRAINED!r} are not installed"
        )
    if str(checkpoint) in PRETRAINED or Path(checkpoint).is_file():
        return str(checkpoint)
    known = f"; shipped weights: {sorted(PRETRAINED)}" if PRETRAINED else ""
    raise FileNotFoundError(f"checkpoint not found: {checkpoint}{known}")


def load_state_dict_file(
    path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Network weights (``module.`` prefix removed) and the remaining top-level entries of a file.

    ``path`` may also name weights shipped with the package (see :data:`PRETRAINED`).
    """
    path = weights_path(path)
    checkpoint = read_checkpoint(path, map_location)
    key = next(k for k in ("network", "state_dict", "model") if k in checkpoint)
    state = checkpoint.pop(key)
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: entry '{key}' is not a state dict of tensors")
    state = {k[len("module.") :] if k.startswith("module.") else k: v for k, v in state.items()}
    return state, checkpoint


def _shape(state: Mapping[str, torch.Tensor], key: str, source: str) -> tuple[int, ...]:
    if key not in state:
        raise CheckpointError(f"{source}: missing key '{key}', so this is not a ConvNeXtPose network")
    return tuple(state[key].shape)


#: Joint counts of the joint sets the release's datasets use (:mod:`convnextpose.joints`). A final layer's
#: ``J x D`` outputs are split only into one of these unless the caller names ``num_joints``.
KNOWN_JOINT_SETS: dict[int, str] = {18: "human36m", 21: "muco", 17: "mupots", 16: "mpii", 19: "coco"}
#: The release's pairing of depth bins with head upsampling layers: the heatmap volume is a cube at 256x256
#: (32 bins: 2 layers, 32x32x32, XS and S; 64 bins: 3 layers, 64x64x64, M and L). Nothing in a release
#: snapshot records the upsampling count (it has no parameters), so it follows from the depth bins.
RELEASE_UPSAMPLE_LAYERS: dict[int, int] = {32: 2, 64: 3}


def _split_final_layer(
    out_channels: int, num_joints: int | None, depth_dim: int | None, source: str
) -> tuple[int, int]:
    """Joints and depth bins of a final layer with ``out_channels = J * D`` outputs; never a guess."""
    if num_joints is not None and depth_dim is not None:
        if num_joints * depth_dim != out_channels:
            raise CheckpointError(
                f"{source}: head.final_layer has {out_channels} outputs, not {num_joints} joints x {depth_dim} bins"
            )
        return num_joints, depth_dim
    if num_joints is not None or depth_dim is not None:
        given, name = (num_joints, "joints") if num_joints is not None else (depth_dim, "depth bins")
        if out_channels % given:
            raise CheckpointError(
                f"{source}: head.final_layer has {out_channels} outputs, not divisible by {given} {name}"
            )
        other = out_channels // given
        return (num_joints, other) if num_joints is not None else (other, depth_dim)
    options = [(j, d) for j in KNOWN_JOINT_SETS for d in RELEASE_UPSAMPLE_LAYERS if j * d == out_channels]
    if len(options) == 1:
        return options[0]
    known = ", ".join(f"{j} ({name})" for j, name in sorted(KNOWN_JOINT_SETS.items()))
    if not options:
        raise CheckpointError(
            f"{source}: head.final_layer has {out_channels} outputs, which is no known joint count ({known}) times "
            f"{' or '.join(map(str, RELEASE_UPSAMPLE_LAYERS))} depth bins; pass num_joints= or depth_dim= to split it"
        )
    listed = "; ".join(f"{j} joints x {d} bins" for j, d in options)
    raise CheckpointError(
        f"{source}: head.final_layer has {out_channels} outputs, which splits several ways ({listed}); "
        "pass num_joints= or depth_dim= (or variant=) to choose"
    )


def infer_spec(
    state: Mapping[str, torch.Tensor],
    num_joints: int | None = None,
    depth_dim: int | None = None,
    source: str = "state dict",
    upsample_layers: int | None = None,
) -> dict[str, Any]:
    """Read depths, dims, head width, joints, depth bins and upsampling from the tensor shapes.

    The final layer has ``J * D`` outputs. Unless ``num_joints`` or ``depth_dim`` is given, ``J`` must be one
    of :data:`KNOWN_JOINT_SETS` and ``D`` 32 or 64 (so 1,152 outputs are 18 joints x 64 bins, never 36 x 32).
    The upsampling count follows the release's pairing :data:`RELEASE_UPSAMPLE_LAYERS` unless given.

    Raises:
        CheckpointError: a missing key, or a split or upsampling count the rule cannot settle (the message
            names the options).
    """
    stage_blocks: dict[int, set[int]] = {}
    for key in state:
        match = re.match(r"backbone\.stages\.(\d+)\.(\d+)\.", key)
        if match:
            stage_blocks.setdefault(int(match.group(1)), set()).add(int(match.group(2)))
    if sorted(stage_blocks) != [0, 1, 2, 3]:
        raise CheckpointError(
            f"{source}: expected backbone.stages.0-3, found stages {sorted(stage_blocks)}; not a ConvNeXtPose network"
        )
    depths = [max(stage_blocks[i]) + 1 for i in range(4)]
    dims = [_shape(state, f"backbone.stages.{i}.0.dwconv.weight", source)[0] for i in range(4)]
    head_width = _shape(state, "head.deconv_layers_1.pwconv.weight", source)[0]
    out_channels = _shape(state, "head.final_layer.weight", source)[0]
    joints, depth_dim = _split_final_layer(out_channels, num_joints, depth_dim, source)
    if upsample_layers is None:
        if depth_dim not in RELEASE_UPSAMPLE_LAYERS:
            pairs = ", ".join(f"{d} bins: {u} layers" for d, u in RELEASE_UPSAMPLE_LAYERS.items())
            raise CheckpointError(
                f"{source}: {depth_dim} depth bins have no release pairing with the head's upsampling count "
                f"({pairs}); pass upsample_layers=2 (heatmaps at input/8) or 3 (input/4), or variant="
            )
        upsample_layers = RELEASE_UPSAMPLE_LAYERS[depth_dim]
    return {
        "depths": depths,
        "dims": dims,
        "head_width": head_width,
        "num_joints": joints,
        "depth_dim": depth_dim,
        "upsample_layers": upsample_layers,
    }


def joint_set_for(num_joints: int, source: str = "network") -> str:
    """The joint set of a network with ``num_joints`` outputs (18: Human3.6M, 21: MuCo, ...)."""
    if num_joints not in KNOWN_JOINT_SETS:
        known = ", ".join(f"{j} ({name})" for j, name in sorted(KNOWN_JOINT_SETS.items()))
        raise CheckpointError(f"{source}: {num_joints} joints match no known joint set ({known})")
    return KNOWN_JOINT_SETS[num_joints]


def load_model(
    path: str | os.PathLike,
    map_location: str | torch.device = "cpu",
    num_joints: int | None = None,
    depth_dim: int | None = None,
    input_size: tuple[int, int] | None = None,
    variant: str | None = None,
    upsample_layers: int | None = None,
) -> ConvNeXtPose:
    """Load a ConvNeXtPose network from a checkpoint, in eval mode.

    Accepts a released ``snapshot_N.pth.tar`` (``{"epoch", "network", "optimizer"}``, keys with
    or without ``module.``), a bare state dict, or a checkpoint written by this package. Released files
    record no architecture: it is read from the tensor shapes (see :func:`infer_spec`), so XS, S, M and
    L load without being named, and the returned ``model.spec`` says what was inferred.

    Args:
        path: checkpoint file, or the name of weights shipped with the package.
        map_location: device to load the tensors onto.
        num_joints: J, only needed where the final layer's J x D split is not a known joint count.
        depth_dim: D, as above.
        input_size: (height, width) of the crop; default 256x256 or what the checkpoint records.
        variant: ``"XS"``, ``"S"``, ``"M"`` or ``"L"``: take its depth bins and upsampling count and check the
            file's backbone and head are that variant's.
        upsample_layers: head layers that upsample (2 or 3), where the release's pairing with the depth
            bins does not apply.

    Raises:
        FileNotFoundError, CheckpointError: with the file, and the key or shape that is wrong, or the
            options where the layout cannot be settled.
    """
    path = weights_path(path)
    source = str(path)
    state, meta = load_state_dict_file(path, map_location)
    named = VARIANTS[normalize_variant_name(variant)] if variant is not None else None
    if named is not None:
        depth_dim = named.depth_dim if depth_dim is None else depth_dim
        upsample_layers = named.upsample_layers if upsample_layers is None else upsample_layers
    spec_values = meta.get("model_spec") if isinstance(meta.get("model_spec"), Mapping) else None
    if spec_values is not None:
        try:
            spec = ModelSpec.from_dict(dict(spec_values))
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{source}: bad model_spec entry ({exc})") from None
        kwargs = spec.to_dict()
        asked = {"num_joints": num_joints, "depth_dim": depth_dim, "upsample_layers": upsample_layers}
        clashes = [f"{k}={v} (file: {kwargs[k]})" for k, v in asked.items() if v is not None and v != kwargs[k]]
        if clashes:
            raise CheckpointError(f"{source}: its stored model_spec disagrees with {', '.join(clashes)}")
    else:
        try:
            kwargs = infer_spec(state, num_joints, depth_dim, source, upsample_layers)
            kwargs["joint_set"] = joint_set_for(kwargs["num_joints"], source)
        except CheckpointError as exc:
            if named is None:
                raise
            detail = str(exc).removeprefix(f"{source}: ")
            raise CheckpointError(f"{source}: is not variant {variant!r} ({detail})") from None
    kwargs["drop_path_rate"] = 0.0
    if input_size is not None:
        kwargs["input_size"] = tuple(input_size)
    if named is not None:
        found = (tuple(kwargs["depths"]), tuple(kwargs["dims"]), kwargs["head_width"])
        if found != (named.depths, named.dims, named.head_width):
            raise CheckpointError(
                f"{source}: is not variant {variant!r}: depths/dims/head width {found}, "
                f"the variant has {(named.depths, named.dims, named.head_width)}"
            )
    model = ConvNeXtPose(**kwargs)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:5]}" + (" ..." if len(missing) > 5 else ""))
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:5]}" + (" ..." if len(unexpected) > 5 else ""))
        raise CheckpointError(f"{source}: does not fit the inferred architecture: {'; '.join(parts)}")
    for key, tensor in expected.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"{source}: key '{key}' has shape {tuple(state[key].shape)}, expected {tuple(tensor.shape)}"
            )
        if not torch.is_floating_point(state[key]) and torch.is_floating_point(tensor):
            raise CheckpointError(f"{source}: key '{key}' has dtype {state[key].dtype}, expected a float tensor")
    model.load_state_dict(
        {k: v.to(tensor.dtype) for (k, v), tensor in zip(state.items(), [expected[k] for k in state])}
    )
    model.to(map_location)
    return model.eval()
