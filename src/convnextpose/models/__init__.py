"""Network definitions and checkpoint I/O."""

from .checkpoint import load_model, load_state_dict_file, save_checkpoint
from .convnextpose import VARIANTS, ConvNeXtPose, ModelSpec, build_model, list_models
from .soft_argmax import soft_argmax_3d, soft_argmax_with_confidence

__all__ = [
    "VARIANTS",
    "ConvNeXtPose",
    "ModelSpec",
    "build_model",
    "list_models",
    "load_model",
    "load_state_dict_file",
    "save_checkpoint",
    "soft_argmax_3d",
    "soft_argmax_with_confidence",
]
