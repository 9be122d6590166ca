"""Trainer: the training loop with DDP, mixed precision, snapshots, exact resume and periodic evaluation.

Usage::

    from convnextpose.config import load_config
    from convnextpose.engine import Trainer

    cfg = load_config("convnextpose_xs_1xb32-25e_h36m-p2-mpii", ["data.root=/data"])
    Trainer(cfg).fit()                 # or Trainer(cfg, resume=True).fit() to continue

Distributed: start it under ``torchrun`` (one or several machines); every process builds the same
Trainer, joins the process group from the environment, trains its shard of each epoch
(``DistributedSampler`` with ``set_epoch``) and only rank 0 logs and writes. A run is laid out as
``<run_dir>/{config.yaml, log/, model_dump/, result/}``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset, DistributedSampler

from ..config import Config, save_config
from ..joints import JointSet, get_joint_set
from ..models.checkpoint import save_checkpoint
from ..models.convnextpose import ConvNeXtPose, normalize_variant_name
from ..models.soft_argmax import soft_argmax_3d
from . import dist
from .build import build_network, build_optimizer, build_train_loader, build_train_samples, load_weights
from .distill import Distiller
from .losses import mirror_tolerant_l1_loss
from .run_log import RunLog, format_hms, format_terms, progress_bar
from .schedule import WarmupCosineSchedule
from .snapshots import config_changes, find_latest_snapshot, read_snapshot, snapshot_path

logger = logging.getLogger(__name__)


class Trainer:
    """Trains a ConvNeXtPose network as configured.

    Args:
        cfg: the configuration (see :mod:`convnextpose.config`).
        resume: continue from the newest complete snapshot in ``<run_dir>/model_dump`` (``--continue``).
        train_samples: a training Dataset to use instead of building one from ``cfg.data``; its items
            are dicts with ``image`` (3, H, W), ``target`` (J, 3), ``target_vis`` (J,), ``has_depth`` ().
        joint_set: the output joints when ``train_samples`` is given.
        model: a network to train instead of building one.
        evaluator_factory: builds the Evaluator used every ``train.eval_interval`` epochs (default:
            :class:`~convnextpose.engine.Evaluator` on ``cfg``).
    """

    def __init__(
        self,
        cfg: Config,
        resume: bool = False,
        train_samples: Dataset | None = None,
        joint_set: str | JointSet | None = None,
        model: ConvNeXtPose | None = None,
        evaluator_factory: Callable[[Config], Any] | None = None,
    ) -> None:
        self.cfg = cfg
        self.resume = resume
        self.device = dist.select_device(cfg, int(os.environ.get("LOCAL_RANK", "0")))
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        self.rank, self.local_rank, self.world_size = dist.init_distributed(self.device.type)
        if self.device.type == "cpu" and self.world_size > 1 and "OMP_NUM_THREADS" not in os.environ:
            # Several CPU processes on one machine: split the cores, as oversubscribed OpenMP threads crawl.
            local = int(os.environ.get("LOCAL_WORLD_SIZE", self.world_size))
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // local))
        self.is_main = self.rank == 0
        if not self.is_main:
            # Only rank 0 speaks; the others still report warnings and errors.
            logging.getLogger("convnextpose").setLevel(logging.WARNING)
        self.run_dir = cfg.run_dir
        self.log_dir = self.run_dir / "log"
        self.model_dump = self.run_dir / "model_dump"
        self.result_dir = self.run_dir / "result"
        self._evaluator_factory = evaluator_factory
        self.run_log: RunLog | None = None
        if self.is_main:
            for folder in (self.log_dir, self.model_dump, self.result_dir):
                folder.mkdir(parents=True, exist_ok=True)
            save_config(cfg, self.run_dir / "config.yaml")
            self.run_log = RunLog(self.log_dir)
        dist.seed_everything(cfg.run.seed + self.rank)
        if cfg.run.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        elif self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

        if train_samples is None:
            train_samples, joint_set = build_train_samples(cfg, None if model is None else model.spec, self.is_main)
        elif joint_set is None:
            raise ValueError("joint_set is required with train_samples")
        self.joint_set = get_joint_set(joint_set)
        self.flip_permutation = torch.as_tensor(self.joint_set.flip_permutation, dtype=torch.long)
        self.train_samples = train_samples
        self.sampler = DistributedSampler(
            train_samples, num_replicas=self.world_size, rank=self.rank, shuffle=True, seed=cfg.run.seed, drop_last=True
        )
        # Worker seeds come from this generator, fixed per epoch in _set_epoch.
        self.loader_generator = torch.Generator()
        self.loader = build_train_loader(train_samples, self.sampler, cfg, self.device, self.loader_generator)
        batch = cfg.train.batch_size
        self.steps_per_epoch = len(self.loader)
        if cfg.train.max_steps_per_epoch:
            self.steps_per_epoch = min(self.steps_per_epoch, cfg.train.max_steps_per_epoch)
        if self.steps_per_epoch == 0:
            raise ValueError(f"the training set has {len(train_samples)} samples: not one batch of {batch}")

        self.model = (model or build_network(cfg, self.joint_set)).to(self.device)
        if self.device.type == "cpu":
            # oneDNN's convolutions run faster on NHWC tensors: 1.40x per XS training step at 256x256 on the
            # 2-core development CPU (`python -m benchmarks train`, docs/training.md "Benchmarks").
            self.model.to(memory_format=torch.channels_last)
        self.distiller = Distiller(cfg.distill, self.model, self.device) if cfg.distill.teachers else None
        # What the optimiser trains: the network, plus the distillation's feature adapters when there are any.
        self.train_module = self.model if self.distiller is None else self.distiller.student_module(self.model)
        self.optimizer = build_optimizer(self.train_module, cfg)
        self.schedule = WarmupCosineSchedule(
            self.optimizer,
            total_steps=cfg.train.end_epoch * self.steps_per_epoch,
            warmup_steps=int(round(cfg.train.warmup_epochs * self.steps_per_epoch)),
            base_lr=cfg.train.lr,
            min_lr=cfg.train.min_lr,
        )
        self.use_amp = bool(cfg.train.amp and self.device.type == "cuda")
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.start_epoch = 0
        self.history: list[dict[str, float]] = []
        if resume:
            self._resume()
        self.ddp_model: torch.nn.Module = self.train_module
        if self.world_size > 1:
            self.ddp_model = torch.nn.parallel.DistributedDataParallel(
                self.train_module, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )

    def close(self) -> None:
        """Flush and detach the log file and TensorBoard writer."""
        if self.run_log is not None:
            self.run_log.close()
            self.run_log = None

    # ------------------------------------------------------------ checkpoints
    def _resume(self) -> None:
        found = find_latest_snapshot(self.model_dump)
        if found is None:
            if self.is_main:
                logger.warning("--continue: no usable snapshot in %s; starting from scratch", self.model_dump)
            return
        path, payload = found
        self.load_snapshot(path, payload)

    def load_snapshot(self, path: str | Path, payload: dict[str, Any] | None = None) -> None:
        """Restore network, optimiser, schedule, grad scaler and RNG states from a snapshot.

        A released snapshot (``{"epoch", "network", "optimizer"}``) restores the network and, where
        it fits, the optimiser; the schedule continues from the start of the next epoch.
        """
        payload = read_snapshot(path) if payload is None else payload
        load_weights(self.model, path)
        if self.distiller is not None and isinstance(payload.get("distill_adapters"), dict):
            try:
                self.distiller.adapters.load_state_dict(payload["distill_adapters"])
            except (KeyError, RuntimeError) as exc:
                logger.warning("%s: distillation adapters do not fit (%s); they start afresh", path, exc)
        epoch = int(payload.get("epoch", -1))
        self.start_epoch = epoch + 1
        if "optimizer" in payload:
            try:
                self.optimizer.load_state_dict(payload["optimizer"])
            except (ValueError, KeyError, RuntimeError) as exc:
                logger.warning("%s: optimiser state does not fit (%s); starting the optimiser afresh", path, exc)
        step = payload.get("scheduler", {}).get("step") if isinstance(payload.get("scheduler"), dict) else None
        self.schedule.load_state_dict({"step": step if step is not None else self.start_epoch * self.steps_per_epoch})
        changed = config_changes(payload.get("cfg"), self.cfg.to_dict())
        if changed and self.is_main:
            logger.warning("%s was trained with a different config: %s", path, "; ".join(changed))
        saved_spe = payload.get("steps_per_epoch")
        if saved_spe is not None and saved_spe != self.steps_per_epoch and self.is_main:
            logger.warning(
                "%s was written with %d steps per epoch, this run has %d: the schedule continues from step %d",
                path,
                saved_spe,
                self.steps_per_epoch,
                self.schedule.step_count,
            )
        if "scaler" in payload and self.use_amp:
            self.scaler.load_state_dict(payload["scaler"])
        self.history = list(payload.get("history", []))
        rng = payload.get("rng")
        if isinstance(rng, list) and len(rng) == self.world_size:
            dist.restore_rng_state(rng[self.rank])
        else:
            if rng is not None and self.is_main:
                logger.warning(
                    "%s holds RNG states of %d processes, this run has %d: reseeding", path, len(rng), self.world_size
                )
            dist.seed_everything(self.cfg.run.seed + self.rank + 100_003 * self.start_epoch)
        if self.is_main:
            logger.info(
                "resumed from %s: epoch %d done, continuing at epoch %d, step %d",
                path,
                epoch,
                self.start_epoch,
                self.schedule.step_count,
            )

    def save_snapshot(self, epoch: int) -> Path | None:
        """Write ``model_dump/snapshot_<epoch>.pth.tar`` (rank 0; every rank contributes its RNG state)."""
        rng_states = dist.all_gather_object(dist.capture_rng_state())
        if not self.is_main:
            return None
        variant = normalize_variant_name(self.cfg.model.variant)
        extra = {
            "model_name": f"convnextpose_{variant}",
            "scheduler": self.schedule.state_dict(),
            "steps_per_epoch": self.steps_per_epoch,
            "scaler": self.scaler.state_dict(),
            "rng": rng_states,
            "sampler": {"epoch": epoch + 1, "seed": self.cfg.run.seed, "world_size": self.world_size},
            "cfg": self.cfg.to_dict(),
            "history": self.history,
        }
        if self.distiller is not None and len(self.distiller.adapters):
            extra["distill_adapters"] = {k: v.detach().cpu() for k, v in self.distiller.adapters.state_dict().items()}
        path = save_checkpoint(
            snapshot_path(self.model_dump, epoch), self.model, epoch, self.optimizer.state_dict(), extra
        )
        logger.info("saved %s", path)
        return path

    # ------------------------------------------------------------------ train
    def _set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)
        # Worker seeds come from this generator: fixing it per epoch makes every epoch reproducible on resume.
        self.loader_generator.manual_seed(self.cfg.run.seed * 1_000_003 + epoch)
        if hasattr(self.train_samples, "set_epoch"):
            self.train_samples.set_epoch(epoch)

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """One optimiser step; returns the loss values and the learning rate used.

        Raises:
            FloatingPointError: the loss is NaN or infinite (with the values, epoch and step).
        """
        device = self.device
        images = batch["image"].to(device, non_blocking=True)
        if device.type == "cpu":
            images = images.contiguous(memory_format=torch.channels_last)
        target = batch["target"].to(device, non_blocking=True)
        vis = batch["target_vis"].to(device, non_blocking=True)
        has_depth = batch["has_depth"].to(device, non_blocking=True)
        lr = self.schedule.apply()
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=self.use_amp):
            if self.distiller is None:
                pred = self.ddp_model(images)
            else:
                first = self.schedule.step_count == 0
                heatmaps, distill_losses = self.distiller.step(self.ddp_model, self.model, images, first)
                pred = soft_argmax_3d(heatmaps.float(), self.model.num_joints, self.model.depth_dim)
        gt_weight = 1.0 if self.distiller is None else self.cfg.distill.gt_weight
        losses = {
            "coord": gt_weight
            * mirror_tolerant_l1_loss(
                pred, target, vis, has_depth, self.flip_permutation, self.cfg.train.mirror_tolerance
            )
        }
        if self.distiller is not None:
            losses.update(distill_losses)
        total = sum(losses.values())
        if not bool(torch.isfinite(total)):
            values = {k: float(v.detach()) for k, v in losses.items()}
            raise FloatingPointError(
                f"non-finite training loss {values} at step {self.schedule.step_count} (lr {lr:.3g}); "
                "lower train.lr, check the data, or disable train.amp"
            )
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        if self.cfg.train.grad_clip_norm > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.train_module.parameters(), self.cfg.train.grad_clip_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.schedule.advance()
        out = {k: float(v.detach()) for k, v in losses.items()}
        out["loss"] = float(total.detach())
        out["lr"] = lr
        return out

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """Train one epoch; returns mean loss, samples/s and the data-loading share of the time."""
        self.ddp_model.train()
        self._set_epoch(epoch)
        progress = None
        if self.is_main and self.cfg.run.progress:
            progress = progress_bar(self.steps_per_epoch, epoch, self.cfg.train.end_epoch - 1)
        loss_sum, count, samples = 0.0, 0, 0
        term_sums: dict[str, float] = {}
        data_time = compute_time = 0.0
        start = tick = time.perf_counter()
        for step, batch in enumerate(self.loader):
            if step >= self.steps_per_epoch:
                break
            loaded = time.perf_counter()
            data_time += loaded - tick
            values = self.train_step(batch)
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            tick = time.perf_counter()
            compute_time += tick - loaded
            loss_sum += values["loss"]
            for key, value in values.items():
                if key not in ("loss", "lr"):
                    term_sums[key] = term_sums.get(key, 0.0) + value
            count += 1
            samples += len(batch["image"]) * self.world_size
            rate = samples / max(tick - start, 1e-9)
            global_step = self.schedule.step_count
            if progress is not None:
                remaining = (self.cfg.train.end_epoch - epoch) * self.steps_per_epoch - (step + 1)
                eta = remaining * (tick - start) / (step + 1)
                progress.set_postfix(
                    loss=f"{values['loss']:.4f}", lr=f"{values['lr']:.2e}", samples_s=f"{rate:.1f}", eta=format_hms(eta)
                )
                progress.update(1)
            if self.is_main and (global_step % self.cfg.train.log_interval == 0 or step + 1 == self.steps_per_epoch):
                logger.debug(
                    "epoch %d step %d/%d loss %.5f lr %.3e %.1f samples/s",
                    epoch,
                    step + 1,
                    self.steps_per_epoch,
                    values["loss"],
                    values["lr"],
                    rate,
                )
                if self.run_log is not None:
                    scalars = {"train/loss": values["loss"], "train/lr": values["lr"], "train/samples_per_s": rate}
                    self.run_log.scalars(global_step, scalars)
        if progress is not None:
            progress.close()
        elapsed = time.perf_counter() - start
        if self.distiller is not None:
            self.distiller.end_epoch(self.model, (batch["image"] for batch in self.loader), self.device)
        stats = {
            "epoch": epoch,
            "loss": dist.all_reduce_mean(loss_sum / max(count, 1)),
            **{f"loss_{k}": dist.all_reduce_mean(v / max(count, 1)) for k, v in sorted(term_sums.items())},
            "lr": self.optimizer.param_groups[0]["lr"],
            "samples_per_s": samples / max(elapsed, 1e-9),
            "data_share": data_time / max(data_time + compute_time, 1e-9),
            "seconds": elapsed,
        }
        return stats

    def fit(self) -> list[dict[str, float]]:
        """Train from ``start_epoch`` to ``train.end_epoch``; returns the per-epoch statistics.

        Snapshots are written every ``train.save_interval`` epochs and after the last one.
        """
        cfg = self.cfg
        if self.is_main:
            logger.info(
                "training %s (%s joints) on %s x %d process(es), batch %d per process, epochs %d..%d, %d steps/epoch",
                cfg.model.variant, self.joint_set.name, self.device, self.world_size, cfg.train.batch_size,
                self.start_epoch, cfg.train.end_epoch - 1, self.steps_per_epoch,
            )  # fmt: skip
        try:
            for epoch in range(self.start_epoch, cfg.train.end_epoch):
                stats = self.train_epoch(epoch)
                if cfg.train.eval_interval and (epoch + 1) % cfg.train.eval_interval == 0:
                    stats.update(self.evaluate(epoch))
                self.history.append(stats)
                if self.is_main:
                    logger.info(
                        "epoch %d: loss %.5f (%s), lr %.3e, %.1f samples/s, data loading %.0f%% of the step time, %s",
                        epoch, stats["loss"], format_terms(stats), stats["lr"], stats["samples_per_s"],
                        100 * stats["data_share"], format_hms(stats["seconds"]),
                    )  # fmt: skip
                    if self.run_log is not None:
                        self.run_log.scalars(epoch, {"epoch/loss": stats["loss"]})
                if (epoch + 1) % cfg.train.save_interval == 0 or epoch + 1 == cfg.train.end_epoch:
                    self.save_snapshot(epoch)
            dist.barrier()
        finally:
            self.close()
        return self.history

    def evaluate(self, epoch: int) -> dict[str, float]:
        """Run the Evaluator on the current weights; returns flat headline figures for the history."""
        factory = self._evaluator_factory
        if factory is None:
            from .evaluator import Evaluator

            factory = Evaluator
        result = factory(self.cfg).evaluate(self.model, epoch=epoch)
        return {f"eval_{k}": v for k, v in result.get("summary", {}).items() if isinstance(v, (int, float))}
