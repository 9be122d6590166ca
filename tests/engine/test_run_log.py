"""What a training run reports: train.log lines, and the formats of the epoch line."""

from __future__ import annotations

import logging

from convnextpose.engine.run_log import RunLog, format_hms, format_terms


def test_format_hms_and_terms():
    assert format_hms(3723.9) == "1:02:03"
    assert format_hms(59) == "0:00:59"
    assert format_hms(float("inf")) == "?"
    stats = {"loss": 1.0, "loss_coord": 0.12345, "loss_distill_volume": 0.4, "lr": 1e-3}
    assert format_terms(stats) == "coord 0.1235, distill_volume 0.4000"


def test_run_log_copies_package_lines_until_closed(tmp_path):
    log = logging.getLogger("convnextpose.test_run_log")
    run_log = RunLog(tmp_path)
    try:
        log.info("epoch 0 done")
    finally:
        run_log.close()
    log.info("after close")
    run_log.close()  # idempotent
    text = (tmp_path / "train.log").read_text()
    assert "INFO epoch 0 done" in text
    assert "after close" not in text
    files = [getattr(h, "baseFilename", "") for h in logging.getLogger("convnextpose").handlers]
    assert str(tmp_path / "train.log") not in files
