"""Evaluator: predictions on a test set, benchmark metrics, and the release's result files.

The same object runs standalone (``convnextpose test``) and from the Trainer. Every process
predicts its shard of the test set; the shards are gathered, and rank 0 decodes, scores and writes
``<run_dir>/result/<tag>/``:

- Human3.6M: ``metrics.json`` (MPJPE, rigid and similarity PA-MPJPE, overall and per action) and
  the release's ``bbox_root_pose_human36m_output.json``.
- MuPoTS-3D: ``metrics.json`` (3DPCK/AUC per sequence, all-annotated and matched-only, visible and
  occluded joints) and the release's ``preds_2d_kpt_mupots.mat`` / ``preds_3d_kpt_mupots.mat`` for
  the official MATLAB toolkit.
- MS COCO: ``bbox_root_pose_coco_output.json`` (no 3D ground truth; a 2D error is reported).
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset

from ..atomic import write_bytes_atomic, write_json_atomic
from ..codec import decode_with_boxes, flip_back
from ..config import Config
from ..geometry.camera import pixel2cam
from ..joints import get_joint_set, map_joints
from ..metrics.mupots import AnnotatedPerson, evaluate_mupots
from ..metrics.protocols import evaluate_human36m, format_human36m, format_mupots
from . import dist

logger = logging.getLogger(__name__)


def load_test_network(path: str | os.PathLike, cfg: Config) -> torch.nn.Module:
    """The network of any checkpoint. A release snapshot (no stored spec) takes the input size, and the depth bins
    and upsampling count where set, from ``cfg`` (otherwise they are inferred from the tensors)."""
    from ..models import load_model
    from ..models.checkpoint import read_checkpoint

    if "model_spec" in read_checkpoint(path):
        return load_model(path)
    return load_model(
        path,
        depth_dim=cfg.model.depth_dim,
        upsample_layers=cfg.model.upsample_layers,
        input_size=tuple(cfg.model.input_size),
    )


class Evaluator:
    """Scores a network on ``cfg.data.test_set``.

    Args:
        cfg: the configuration (``data``, ``eval`` and ``run`` sections are used).
        dataset: a loaded test :class:`~convnextpose.data.PoseDataset` to use instead of loading one.
        run_dir: where ``result/`` goes (default ``cfg.run_dir``).
    """

    def __init__(self, cfg: Config, dataset: Any = None, run_dir: str | os.PathLike | None = None) -> None:
        self.cfg = cfg
        self._dataset = dataset
        self.run_dir = Path(run_dir) if run_dir is not None else cfg.run_dir

    # ------------------------------------------------------------------ data
    @property
    def dataset(self) -> Any:
        if self._dataset is None:
            self._dataset = self._load(use_gt_info=self.cfg.eval.use_gt_info)
        return self._dataset

    def _load(self, use_gt_info: bool) -> Any:
        from ..data import load_dataset

        cfg = self.cfg
        options = dict(cfg.data.test_options)
        name = cfg.data.test_set
        if name == "human36m":
            options.setdefault("protocol", cfg.data.protocol)
        if name in ("human36m", "mupots"):
            options.setdefault("use_gt_info", use_gt_info)
            if not use_gt_info and cfg.eval.bbox_root_file:
                options.setdefault("bbox_root_file", cfg.eval.bbox_root_file)
        elif name == "coco" and cfg.eval.bbox_root_file:
            options.setdefault("bbox_root_file", cfg.eval.bbox_root_file)
        return load_dataset(name, cfg.dataset_root(name), "test", **options)

    # -------------------------------------------------------------- predict
    @torch.inference_mode()
    def predict(self, model: torch.nn.Module, dataset: Any = None, progress: bool | None = None) -> np.ndarray:
        """Network output for every record of ``dataset``, gathered over ranks.

        Returns:
            (N, J_model, 3) float32 in heatmap units, flip-averaged when ``eval.flip_test``.
        """
        from ..data import TestSamples

        dataset = self.dataset if dataset is None else dataset
        model = dist.unwrap_model(model)
        device = next(model.parameters()).device
        if device.type == "cpu" and self.cfg.run.device != "cpu":
            wanted = dist.select_device(self.cfg, int(os.environ.get("LOCAL_RANK", "0")))
            if wanted.type == "cuda":
                model.to(wanted)
                device = wanted
        was_training = model.training
        model.eval()
        spec = model.spec
        samples = TestSamples(dataset, tuple(spec.input_size))
        rank, world = dist.get_rank(), dist.get_world_size()
        shard = Subset(samples, list(range(rank, len(samples), world)))
        loader = DataLoader(
            shard,
            batch_size=self.cfg.eval.batch_size,
            shuffle=False,
            num_workers=self.cfg.data.workers,
            pin_memory=device.type == "cuda",
        )
        flip_perm = get_joint_set(spec.joint_set).flip_permutation if self.cfg.eval.flip_test else None
        use_amp = device.type == "cuda" and self.cfg.train.amp
        show = (self.cfg.run.progress if progress is None else progress) and dist.is_main_process()
        iterator = loader
        if show:
            from tqdm import tqdm

            iterator = tqdm(loader, desc="test", leave=False, dynamic_ncols=True)
        indices, outputs = [], []
        for batch in iterator:
            images = batch["image"].to(device, non_blocking=True)
            with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
                pred = model(images).float()
                if flip_perm is not None:
                    flipped = model(torch.flip(images, dims=[3])).float()
                    pred = (
                        pred + flip_back(flipped, torch.as_tensor(flip_perm, device=device), spec.output_size[1])
                    ) / 2
            outputs.append(pred.cpu().numpy())
            indices.append(np.asarray(batch["index"]).reshape(-1))
        model.train(was_training)
        joints = spec.num_joints
        local = (
            np.concatenate(indices) if indices else np.zeros(0, np.int64),
            np.concatenate(outputs) if outputs else np.zeros((0, joints, 3), np.float32),
        )
        gathered = dist.all_gather_object(local)
        all_indices = np.concatenate([g[0] for g in gathered]).astype(np.int64)
        all_preds = np.concatenate([g[1] for g in gathered]).astype(np.float32)
        result = np.full((len(samples), joints, 3), np.nan, dtype=np.float32)
        result[all_indices] = all_preds
        return result

    def decode(
        self, pred_hm: np.ndarray, model_spec: Any, dataset: Any = None, joint_set: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Heatmap units -> (joints_img (N, J, 3) px + depth mm, joints_cam (N, J, 3) mm).

        Joints follow ``joint_set`` (default: the dataset's; joints the network lacks are NaN).
        """
        dataset = self.dataset if dataset is None else dataset
        records = dataset.records
        target = dataset.joint_set if joint_set is None else joint_set
        mapped, _present = map_joints(pred_hm, model_spec.joint_set, target, fill=np.nan)
        boxes = np.stack([np.asarray(r.bbox, dtype=np.float64) for r in records])
        roots = np.stack([np.asarray(r.root_cam, dtype=np.float64) for r in records])
        focal = np.stack([np.asarray(r.focal, dtype=np.float64) for r in records])
        princpt = np.stack([np.asarray(r.princpt, dtype=np.float64) for r in records])
        joints_img = decode_with_boxes(
            mapped,
            boxes,
            roots[:, 2],
            tuple(model_spec.input_size),
            model_spec.depth_dim,
            self.cfg.data.bbox_3d_size,
            tuple(model_spec.output_size),
        )
        return joints_img, pixel2cam(joints_img, focal, princpt)

    # ------------------------------------------------------------- evaluate
    def evaluate(
        self,
        model: torch.nn.Module,
        epoch: int | None = None,
        tag: str | None = None,
        write: bool = True,
        checkpoint: str | None = None,
    ) -> dict[str, Any]:
        """Predict, score and (on rank 0) write the result files.

        Args:
            model: the network (any device; DDP-wrapped is fine).
            epoch: for labelling; the result folder is ``result/snapshot_<epoch>`` unless ``tag`` is given.
            tag: name of the result folder.
            write: write files under ``result/``.
            checkpoint: path, for the record.

        Returns:
            ``{"dataset", "epoch", "checkpoint", "summary": {headline figures}, "details": {...},
            "table": str, "files": [...], "seconds": float}``; the same on every rank.
        """
        start = time.perf_counter()
        spec = dist.unwrap_model(model).spec
        pred_hm = self.predict(model)
        result: dict[str, Any] = {}
        if dist.is_main_process():
            tag = tag or (f"snapshot_{epoch}" if epoch is not None else "latest")
            out_dir = self.run_dir / "result" / tag
            name = self.cfg.data.test_set
            scorer = {"human36m": self._score_human36m, "mupots": self._score_mupots, "coco": self._score_coco}[name]
            result = scorer(pred_hm, spec, out_dir if write else None)
            result.update(dataset=name, epoch=epoch, checkpoint=checkpoint, num_samples=int(len(pred_hm)))
            result["seconds"] = time.perf_counter() - start
            if write:
                summary_path = write_json_atomic(
                    out_dir / "metrics.json",
                    {k: v for k, v in result.items() if k != "table"} | {"config": self.cfg.to_dict()},
                    indent=1,
                )
                result["files"] = [*result.get("files", []), str(summary_path)]
                write_bytes_atomic(out_dir / "table.txt", (result["table"] + "\n").encode("utf-8"))
            logger.info("%s", result["table"])
        return dist.broadcast_object(result)

    __call__ = evaluate

    def evaluate_checkpoints(
        self, checkpoints: str | os.PathLike | Sequence[tuple[int | None, str | os.PathLike]] | None = None
    ) -> list[dict[str, Any]]:
        """Score several checkpoints, each into ``result/snapshot_<epoch>`` (or ``result/<file stem>``).

        Args:
            checkpoints: (epoch or None, path) pairs; or what ``--test-epoch`` says, resolved in this run's
                ``model_dump/`` (:func:`~convnextpose.engine.snapshots.resolve_test_checkpoints`): an epoch
                ``20``, a range ``20-21``, a list ``20,22`` or a file; None for the newest snapshot.

        Returns:
            :meth:`evaluate`'s result per checkpoint, in order; rank 0 logs each table and folder.
        """
        from .snapshots import resolve_test_checkpoints

        if checkpoints is None or isinstance(checkpoints, (str, os.PathLike)):
            checkpoints = resolve_test_checkpoints(self.run_dir / "model_dump", checkpoints)
        results = []
        for epoch, path in checkpoints:
            tag = f"snapshot_{epoch}" if epoch is not None else Path(path).name.split(".")[0]
            if dist.is_main_process():
                logger.info("== %s ==", path)
            result = self.evaluate(load_test_network(path, self.cfg), epoch=epoch, tag=tag, checkpoint=str(path))
            if dist.is_main_process():
                logger.info("results: %s", self.run_dir / "result" / tag)
            results.append(result)
        return results

    def _score_human36m(self, pred_hm: np.ndarray, spec: Any, out_dir: Path | None) -> dict[str, Any]:
        dataset = self.dataset
        records = dataset.records
        _joints_img, pred_cam = self.decode(pred_hm, spec)
        gt_cam = np.stack([np.asarray(r.joints_cam, dtype=np.float64) for r in records])
        actions = np.array([int(r.meta["action_idx"]) for r in records])
        protocol = int((getattr(dataset, "options", None) or {}).get("protocol", self.cfg.data.protocol))
        details = evaluate_human36m(pred_cam, gt_cam, actions, protocol, dataset.joint_set)
        files = []
        if out_dir is not None:
            release = [
                {
                    "image_id": int(r.image_id),
                    "joint_cam": pred_cam[i].tolist(),
                    "bbox": np.asarray(r.bbox, dtype=float).tolist(),
                    "root_cam": np.asarray(r.root_cam, dtype=float).tolist(),
                }
                for i, r in enumerate(records)
            ]
            files.append(str(write_json_atomic(out_dir / "bbox_root_pose_human36m_output.json", release)))
        box_source = "ground truth" if self.cfg.eval.use_gt_info else "bbox_root file"
        table = format_human36m(details) + f"\nboxes and roots: {box_source}; flip test: {self.cfg.eval.flip_test}"
        return {"summary": dict(details["overall"]), "details": details, "table": table, "files": files}

    def _mupots_ground_truth(self) -> list[AnnotatedPerson]:
        """Annotated people of every frame; universal joints and occlusion labels from the .mat files if present."""
        from ..data.mupots import read_annotation_mats, sequence_and_frame

        dataset = self.dataset if self.cfg.eval.use_gt_info else self._load(use_gt_info=True)
        mat_cache: dict[int, tuple[dict, dict] | None] = {}
        people = []
        for record in dataset.records:
            meta = dict(record.meta or {})
            sequence, frame = sequence_and_frame(record.image_path, meta)
            if sequence not in mat_cache:
                mat_cache[sequence] = read_annotation_mats(Path(record.image_path).parent)
            universal, occluded_labels = mat_cache[sequence] or ({}, {})
            column = (frame, int(meta.get("person_idx", -1)))
            joints_3d = meta.get("joints_cam_univ", universal.get(column, record.joints_cam))
            occluded = meta.get("occluded", occluded_labels.get(column))
            people.append(
                AnnotatedPerson(
                    sequence=sequence,
                    frame=frame,
                    joints_2d=np.asarray(record.joints_img, dtype=np.float64)[:, :2],
                    joints_3d=np.asarray(joints_3d, dtype=np.float64),
                    valid=bool(meta.get("is_valid", True)),
                    occluded=None if occluded is None else np.asarray(occluded, dtype=bool),
                    person_idx=column[1],
                )
            )
        self.mupots_sources = {
            "universal_annotation": any(v is not None and v[0] for v in mat_cache.values()),
            "occlusion_labels": any(v is not None and v[1] for v in mat_cache.values()),
        }
        return people

    def _score_mupots(self, pred_hm: np.ndarray, spec: Any, out_dir: Path | None) -> dict[str, Any]:
        from ..data.mupots import mat_key, sequence_and_frame, write_prediction_mat

        dataset = self.dataset
        joints_img, joints_cam = self.decode(pred_hm, spec)
        preds_2d: dict[tuple[int, int], list] = defaultdict(list)
        preds_3d: dict[tuple[int, int], list] = defaultdict(list)
        for i, record in enumerate(dataset.records):
            key = sequence_and_frame(record.image_path, record.meta)
            preds_2d[key].append(joints_img[i, :, :2])
            preds_3d[key].append(joints_cam[i])
        stacked_2d = {k: np.stack(v) for k, v in preds_2d.items()}
        stacked_3d = {k: np.stack(v) for k, v in preds_3d.items()}
        details = evaluate_mupots(
            self._mupots_ground_truth(), stacked_2d, stacked_3d, dataset.joint_set, self.cfg.eval.match_threshold_px
        )
        files = []
        if out_dir is not None:
            for name, stacked in (("preds_2d_kpt_mupots.mat", stacked_2d), ("preds_3d_kpt_mupots.mat", stacked_3d)):
                predictions = {mat_key(*k): v for k, v in stacked.items()}
                files.append(str(write_prediction_mat(out_dir / name, predictions)))
        details["sources"] = dict(self.mupots_sources)
        summary = {
            f"{metric}_{mode}": details[mode]["mean_over_sequences"].get(metric, float("nan"))
            for mode in ("all", "matched")
            for metric in ("pck", "auc")
        }
        gt_kind = "universal (annot.mat)" if self.mupots_sources["universal_annotation"] else "camera (MuPoTS-3D.json)"
        table = (
            format_mupots(details)
            + f"\nground truth: {gt_kind} joints; boxes and roots: "
            + ("ground truth" if self.cfg.eval.use_gt_info else "bbox_root file")
        )
        return {"summary": summary, "details": details, "table": table, "files": files}

    def _score_coco(self, pred_hm: np.ndarray, spec: Any, out_dir: Path | None) -> dict[str, Any]:
        dataset = self.dataset
        # The release writes what the network predicts: its own joints, in its own order.
        joints_img, joints_cam = self.decode(pred_hm, spec, joint_set=spec.joint_set)
        on_coco, present = map_joints(joints_img, spec.joint_set, dataset.joint_set, fill=np.nan)
        errors = []
        for i, record in enumerate(dataset.records):
            vis = (np.asarray(record.joints_vis, dtype=float).reshape(-1) > 0) & present
            if vis.any():
                gt = np.asarray(record.joints_img, dtype=np.float64)[:, :2]
                errors.append(np.linalg.norm(on_coco[i, :, :2] - gt, axis=-1)[vis])
        flat = np.concatenate(errors) if errors else np.zeros(0)
        summary = {
            "num_people": len(dataset.records),
            "mean_2d_error_px": float(flat.mean()) if flat.size else float("nan"),
        }
        files = []
        if out_dir is not None:
            names = list(get_joint_set(spec.joint_set).names)
            release = [
                {
                    "image_id": int(r.image_id),
                    "ann_id": int(r.ann_id),
                    "joint_names": names,
                    "joint_img": joints_img[i].tolist(),
                    "joint_cam": joints_cam[i].tolist(),
                    "bbox": np.asarray(r.bbox, dtype=float).tolist(),
                    "root_cam": np.asarray(r.root_cam, dtype=float).tolist(),
                }
                for i, r in enumerate(dataset.records)
            ]
            files.append(str(write_json_atomic(out_dir / "bbox_root_pose_coco_output.json", release)))
        table = (
            f"MS COCO: 3D poses of {summary['num_people']} people from bbox_root boxes and roots; "
            f"mean 2D error against the annotated keypoints the network has: {summary['mean_2d_error_px']:.1f} px "
            "(no 3D ground truth)"
        )
        return {"summary": summary, "details": {}, "table": table, "files": files}
