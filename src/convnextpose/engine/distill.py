"""Knowledge distillation: a student ConvNeXtPose learns from one or more trained teacher networks.

Each term is weighted in the config's ``distill`` section (:class:`~convnextpose.config.DistillConfig`):

- ``volume``: KL(teacher || student) between each joint's x, y and z marginals of the softmax volume,
  both at temperature T, times T^2 (Hinton et al.'s scaling). Marginals rather than the whole
  volume: they compare networks whose volumes differ in size (XS's 32^3 and M's 64^3), and they are
  what the soft-argmax reads.
- ``coord``: L1 between the student's soft-argmax joints and the teachers', per joint
  ``(|dx| + |dy| + |dz|) / 3`` in the student's heatmap units: the release's loss form.
- ``feature``: MSE between backbone stage outputs, each channel standardised over its map (zero
  mean, unit variance per sample), the student's through a 1x1 adapter to the teacher's width
  (resized to the teacher's grid where it differs). Standardising both sides keeps the term near
  1 whatever the stages' scales, so it cannot drown the other terms. The adapters
  train with the student and are saved in its snapshots, never in its weights.

With ``teacher_forcing`` the distillation is block-wise (for a student with its teacher's stage
widths, head width and input size): each of the student's seven units (four backbone stages, three
head layers) reads the teacher's output of the unit before it instead of its own, and the final 1x1
convolution reads the teacher's last head layer, so every unit learns its own regression from the
teacher's inputs at once, without waiting for the units before it to become good. The feature term
then compares all seven outputs directly (no adapters). Where the next unit begins with a
BatchNorm (after a depthwise convolution in the head), which absorbs a per-channel scale and shift,
each channel is standardised over the batch and map on both sides; the head's last layer, which
the final convolution reads as it is, and the backbone's last stage (a BatchNorm output, set to the
teacher's statistics on the first step) are compared as they are, over the teacher's variance.
After each such epoch the student's BatchNorm statistics are recomputed from its own end-to-end
features (:func:`recalibrate_batchnorm`), so its snapshots run alone; follow it with ordinary
(end-to-end) distillation from its last snapshot, so the units learn to read each other.

Teachers run on the student's crops under ``torch.inference_mode`` (resized to their own input size
where it differs; flip test optional), so their targets follow every augmentation. Their outputs are
mapped into the student's units: a teacher cell ``x_t`` is the teacher-crop pixel ``x_t * s_t``,
which the resize carries to the student crop, divided by the student's stride ``s_s``; depth bins
scale by ``D_s / D_t`` (both cover the same 2 m). Marginals move onto the student's grid by linear
splatting, which keeps their expectation. Teachers of other joint sets are matched by joint name;
a joint no teacher has is left out of the teacher terms. With several teachers the targets are their
mean.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..codec import flip_back
from ..joints import get_joint_set, mapping_indices
from ..models.checkpoint import load_model
from ..models.convnextpose import ConvNeXtPose, ModelSpec
from ..models.soft_argmax import soft_argmax_3d
from .distill_ops import (
    axis_map,
    batch_standardise,
    log_marginals,
    recalibrate_batchnorm,
    splat_matrix,
    standardise_channels,
)

logger = logging.getLogger(__name__)


@dataclass
class TeacherTargets:
    """What the teachers say about a batch, in the student's units and joints.

    Attributes:
        coords: (B, J, 3) heatmap units of the student.
        marginals: [(B, J, W), (B, J, H), (B, J, D)] probabilities on the student's grid, at the temperature.
        joint_mask: (J,) float 0/1: joints at least one teacher has.
        stages: per teacher, the backbone stage outputs asked for (stage -> (B, C, h, w)).
        forcing: with teacher forcing, the teacher's seven unit outputs (stages 0-3, head layers) the
            student's units read; else None.
    """

    coords: torch.Tensor
    marginals: list[torch.Tensor]
    joint_mask: torch.Tensor
    stages: list[dict[int, torch.Tensor]]
    forcing: list[torch.Tensor] | None = None


class Teacher:
    """A frozen trained network that labels the student's crops.

    Args:
        path: its checkpoint (release snapshot, this package's, or a shipped name).
        student: the student's spec (input size, grid, depth bins, joint set).
        device: where it runs.
        flip_test: average with its prediction on the mirrored crop.
    """

    def __init__(self, path: str, student: ModelSpec, device: torch.device, flip_test: bool = False) -> None:
        self.path = str(path)
        self.model = load_model(path, map_location=device).eval()
        if device.type == "cpu":
            self.model.to(memory_format=torch.channels_last)  # as the trainer's student: faster oneDNN convolutions
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.spec = self.model.spec
        self.flip_test = bool(flip_test)
        own, wanted = get_joint_set(self.spec.joint_set), get_joint_set(student.joint_set)
        index = mapping_indices(own, wanted)  # per student joint: the teacher's joint, or -1
        if not (index >= 0).any():
            raise ValueError(
                f"teacher {self.path}: joint set {own.name} shares no joint with the student's {wanted.name}"
            )
        self.joint_index = torch.as_tensor(np.where(index >= 0, index, 0), device=device)
        self.joint_mask = torch.as_tensor(index >= 0, dtype=torch.float32, device=device)
        self.flip_permutation = torch.as_tensor(own.flip_permutation, device=device)
        (h_t, w_t), (h_s, w_s) = self.spec.output_size, student.output_size
        ax, bx = axis_map(w_t, self.spec.input_size[1], w_s, student.input_size[1])
        ay, by = axis_map(h_t, self.spec.input_size[0], h_s, student.input_size[0])
        az = student.depth_dim / self.spec.depth_dim
        self.affine = torch.tensor([[ax, ay, az], [bx, by, 0.0]], device=device)
        self.splats = [
            splat_matrix(w_t, w_s, ax, bx).to(device),
            splat_matrix(h_t, h_s, ay, by).to(device),
            splat_matrix(self.spec.depth_dim, student.depth_dim, az, 0.0).to(device),
        ]

    @torch.inference_mode()
    def _forward(self, images: torch.Tensor, stages: Sequence[int]) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        if tuple(images.shape[-2:]) != tuple(self.spec.input_size):
            images = F.interpolate(
                images, size=self.spec.input_size, mode="bilinear", align_corners=False, antialias=True
            )
        features = self.model.backbone.forward_stages(images)
        head = self.model.head
        if any(s > 3 for s in stages):  # teacher forcing: the head's three layers' outputs too (stages 4-6)
            for layer in head.layers:
                features.append(layer(features[-1]))
            heatmaps = head.final_layer(features[-1])
        else:
            heatmaps = head(features[3])
        if self.flip_test:
            mirrored = self.model.forward_heatmaps(torch.flip(images, dims=[3]))
            heatmaps = torch.cat([heatmaps, mirrored])
        return heatmaps.float(), {s: features[s].float() for s in stages}

    def targets(
        self, images: torch.Tensor, temperature: float, stages: Sequence[int] = ()
    ) -> tuple[torch.Tensor, list[torch.Tensor], dict[int, torch.Tensor]]:
        """Coordinates (B, J_s, 3), marginals on the student's grid and stage outputs, for the student's joints."""
        heatmaps, features = self._forward(images, stages)
        heatmaps, features = heatmaps.clone(), {s: f.clone() for s, f in features.items()}  # usable by autograd
        joints, bins = self.spec.num_joints, self.spec.depth_dim
        coords = soft_argmax_3d(heatmaps, joints, bins)
        marginals = [m.exp() for m in log_marginals(heatmaps, joints, bins, temperature)]
        if self.flip_test:
            n = len(images)
            coords = (coords[:n] + flip_back(coords[n:], self.flip_permutation, self.spec.output_size[1])) / 2
            mirrored = [m[n:, self.flip_permutation] for m in marginals]
            mirrored[0] = mirrored[0].flip(-1)  # x -> W - 1 - x, the release's flip rule
            marginals = [(m[:n] + f) / 2 for m, f in zip(marginals, mirrored)]
        coords = coords * self.affine[0] + self.affine[1]
        marginals = [m @ splat for m, splat in zip(marginals, self.splats)]
        return coords[:, self.joint_index], [m[:, self.joint_index] for m in marginals], features


class StudentWithAdapters(nn.Module):
    """The student and its feature adapters as one module, so DDP and the optimiser see both.

    ``forward(images)`` returns the heatmap logits (B, J*D, H, W) and ``{key: adapted stage output}``;
    ``forward(images, forcing)`` (teacher forcing; ``forcing``: the teacher's four stage outputs and its
    head's three layer outputs) runs each of these seven units on the teacher's output before it and the
    final 1x1 convolution on ``forcing[6]``, returning ``{"stage<i>": unit output}``, i = 0..6.
    """

    def __init__(self, student: ConvNeXtPose, adapters: nn.ModuleDict, stages: dict[str, int]) -> None:
        super().__init__()
        self.student = student
        self.adapters = adapters
        self.stages = dict(stages)

    def forward(
        self, images: torch.Tensor, forcing: Sequence[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if forcing is not None:
            backbone, head = self.student.backbone, self.student.head
            inputs = [images, *forcing[:-1]]  # unit i reads the teacher's output of unit i - 1
            outputs = {f"stage{i}": backbone.forward_stage(i, inputs[i]) for i in range(len(backbone.stages))}
            for k, layer in enumerate(head.layers, start=len(backbone.stages)):
                outputs[f"stage{k}"] = layer(inputs[k])
            return head.final_layer(forcing[-1]), outputs
        if not self.adapters:
            return self.student.forward_heatmaps(images), {}
        features = self.student.backbone.forward_stages(images)
        heatmaps = self.student.head(features[-1])
        return heatmaps, {key: adapter(features[self.stages[key]]) for key, adapter in self.adapters.items()}


class Distiller:
    """The teachers of a run and the loss terms of :mod:`this module <convnextpose.engine.distill>`.

    Args:
        cfg: the ``distill`` section (teachers, weights, temperature, feature stages).
        student: the student network (its spec fixes units and grid; its widths size the adapters).
        device: where the teachers run.
    """

    def __init__(self, cfg, student: ConvNeXtPose, device: torch.device) -> None:
        if not cfg.teachers:
            raise ValueError("distill.teachers is empty: nothing to distil from")
        self.cfg = cfg
        self.spec = student.spec
        self.teachers = [Teacher(path, student.spec, device, cfg.teacher_flip_test) for path in cfg.teachers]
        self.stages = sorted(set(cfg.feature_stages)) if cfg.feature_weight > 0 else []
        self.teacher_forcing = bool(cfg.teacher_forcing)
        self.recalibration_batches = 20  # teacher forcing: end-to-end batches for the BatchNorm statistics
        if self.teacher_forcing:
            self._check_forcing(student.spec)
            self.stages = list(range(7))  # the backbone's four stages, then the head's three layers
        self.adapters = nn.ModuleDict()
        self.adapter_stages: dict[str, int] = {}
        for k, teacher in enumerate(self.teachers if not self.teacher_forcing else []):
            for stage in self.stages:
                key = f"teacher{k}_stage{stage}"
                self.adapters[key] = nn.Conv2d(student.spec.dims[stage], teacher.spec.dims[stage], kernel_size=1)
                self.adapter_stages[key] = stage
        self.adapters.to(device)
        for teacher in self.teachers:
            logger.info(
                "teacher %s: %s joints, %s bins, input %s, heatmaps %s",
                teacher.path, teacher.spec.num_joints, teacher.spec.depth_dim, teacher.spec.input_size,
                teacher.spec.output_size,
            )  # fmt: skip

    def _check_forcing(self, student: ModelSpec) -> None:
        teacher = self.teachers[0].spec
        fits = (teacher.dims, teacher.head_width, teacher.input_size) == (
            student.dims,
            student.head_width,
            student.input_size,
        )
        if len(self.teachers) != 1 or not fits:
            raise ValueError(
                "distill.teacher_forcing needs one teacher with the student's stage widths, head width and input "
                f"size: student dims {student.dims}, head {student.head_width}, input {student.input_size}; teacher(s) "
                + ", ".join(
                    f"{t.path}: dims {t.spec.dims}, head {t.spec.head_width}, input {t.spec.input_size}"
                    for t in self.teachers
                )
            )

    @torch.no_grad()
    def calibrate(self, student: ConvNeXtPose, targets: TeacherTargets) -> None:
        """Teacher forcing, first step: set the student's last BatchNorm's scale and shift to the teacher's
        last-stage per-channel std and mean on this batch, so the head the student trains reads features of
        the teacher's scale from the start (what the feature term would otherwise learn over ~1000 steps)."""
        last = targets.stages[0][3].float()
        student.backbone.norm.weight.copy_(last.std(dim=(0, 2, 3), unbiased=False))
        student.backbone.norm.bias.copy_(last.mean(dim=(0, 2, 3)))

    def step(
        self, module: nn.Module, student: ConvNeXtPose, images: torch.Tensor, first: bool = False
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """One training step's forward: the teachers' targets, ``module`` (the :meth:`student_module`,
        possibly DDP-wrapped) on ``images`` and the weighted teacher terms. ``first``: the run's first
        step (teacher forcing calibrates the student's last BatchNorm there).

        Returns:
            The student's heatmap logits (B, J*D, H, W) and ``{term: loss}``.
        """
        targets = self.targets(images)
        if self.teacher_forcing and first:
            self.calibrate(student, targets)
        heatmaps, adapted = module(images, targets.forcing)
        return heatmaps, self.losses(heatmaps, adapted, targets)

    def end_epoch(self, student: ConvNeXtPose, batches: Iterable[torch.Tensor], device: torch.device) -> None:
        """Teacher forcing: the student's BatchNorm statistics from its own end-to-end features on the first
        ``recalibration_batches`` of ``batches`` (its blocks trained on the teacher's), so snapshots run alone."""
        if self.teacher_forcing:
            first = (images for images, _ in zip(batches, range(self.recalibration_batches)))
            recalibrate_batchnorm(student, first, device)

    def student_module(self, student: ConvNeXtPose) -> StudentWithAdapters:
        """The module the trainer optimises (and wraps in DDP)."""
        return StudentWithAdapters(student, self.adapters, self.adapter_stages)

    def targets(self, images: torch.Tensor) -> TeacherTargets:
        """Every teacher on the batch; per joint, the mean over the teachers that have it."""
        weights, coords, marginals, stages = [], [], [[], [], []], []
        for teacher in self.teachers:
            c, m, s = teacher.targets(images, self.cfg.temperature, self.stages)
            weights.append(teacher.joint_mask)
            coords.append(c * teacher.joint_mask[:, None])
            for axis in range(3):
                marginals[axis].append(m[axis] * teacher.joint_mask[:, None])
            stages.append(s)
        total = torch.stack(weights).sum(0)
        norm = total.clamp(min=1.0)
        return TeacherTargets(
            coords=torch.stack(coords).sum(0) / norm[:, None],
            marginals=[torch.stack(m).sum(0) / norm[:, None] for m in marginals],
            joint_mask=(total > 0).float(),
            stages=stages,
            forcing=[stages[0][s] for s in range(7)] if self.teacher_forcing else None,
        )

    def losses(
        self, heatmaps: torch.Tensor, adapted: dict[str, torch.Tensor], targets: TeacherTargets
    ) -> dict[str, torch.Tensor]:
        """The weighted teacher terms for the student's heatmap logits and adapted stage outputs."""
        cfg, spec = self.cfg, self.spec
        mask = targets.joint_mask[None].expand(len(heatmaps), -1)
        count = mask.sum().clamp(min=1.0)
        out: dict[str, torch.Tensor] = {}
        if cfg.volume_weight > 0:
            log_student = log_marginals(heatmaps, spec.num_joints, spec.depth_dim, cfg.temperature)
            kl = sum(
                (teacher * (teacher.clamp(min=1e-12).log() - student)).sum(-1)
                for teacher, student in zip(targets.marginals, log_student)
            )
            out["distill_volume"] = cfg.volume_weight * cfg.temperature**2 * (kl * mask).sum() / count
        if cfg.coord_weight > 0:
            coords = soft_argmax_3d(heatmaps.float(), spec.num_joints, spec.depth_dim)
            l1 = (coords - targets.coords).abs().mean(-1)
            out["distill_coord"] = cfg.coord_weight * (l1 * mask).sum() / count
        if cfg.feature_weight > 0 and self.teacher_forcing:
            terms = []
            for key, student_feature in adapted.items():
                stage = int(key.removeprefix("stage"))
                teacher_feature, student_feature = targets.stages[0][stage], student_feature.float()
                if stage not in (3, 6):  # the next unit's BatchNorm absorbs any per-channel scale and shift
                    error = batch_standardise(student_feature) - batch_standardise(teacher_feature)
                    terms.append(error.pow(2).mean())
                else:  # the backbone's last BatchNorm output and the head's last layer (read by a plain 1x1 conv)
                    spread = teacher_feature.var(dim=(0, 2, 3)).mean().clamp(min=1e-12)
                    terms.append((student_feature - teacher_feature).pow(2).mean() / spread)
            out["distill_feature"] = cfg.feature_weight * torch.stack(terms).mean()
        elif cfg.feature_weight > 0:
            terms = []
            for key, student_feature in adapted.items():
                k, stage = int(key.split("_")[0].removeprefix("teacher")), self.adapter_stages[key]
                teacher_feature = targets.stages[k][stage]
                if student_feature.shape[-2:] != teacher_feature.shape[-2:]:
                    student_feature = F.interpolate(
                        student_feature, size=teacher_feature.shape[-2:], mode="bilinear", align_corners=False
                    )
                error = standardise_channels(student_feature.float()) - standardise_channels(teacher_feature)
                terms.append(error.pow(2).mean())
            out["distill_feature"] = cfg.feature_weight * torch.stack(terms).mean()
        return out
