"""The speed benchmark's mechanics on the tiny variant: every runtime timed, reports written."""

from __future__ import annotations

import json
import platform

import pytest

from conftest import shared_path
from convnextpose.cli import main as cli_main
from convnextpose.inference.benchmark import (
    RUNTIMES,
    markdown_report,
    run_benchmark,
    steady_allocator,
    time_interleaved,
    write_report,
)


def test_interleaved_timing_runs_blocks_in_turn():
    calls = []
    runners = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    samples = time_interleaved(runners, repeats=5, block=3, pause_s=0.0)
    # Per round and runner: one untimed call, then up to `block` timed ones.
    assert calls == ["a"] * 4 + ["b"] * 4 + ["a"] * 3 + ["b"] * 3
    assert [len(v) for v in samples.values()] == [5, 5] and all(t >= 0 for t in samples["a"])


@pytest.mark.slow  # every runtime, batch sizes, end to end: the heaviest test of the package
def test_benchmark_on_the_tiny_variant(tmp_path):
    pytest.importorskip("onnxruntime")
    checkpoint = shared_path("fixtures", "official_checkpoint", "snapshot_24.pth.tar")
    result = run_benchmark(
        variants=["test"], batches=[1, 2], repeats=3, e2e_frames=4, e2e_variant="test", accuracy_checkpoint=checkpoint
    )
    assert {(t.runtime, t.batch) for t in result.timings} == {(r, b) for r in RUNTIMES for b in (1, 2)}
    assert all(len(t.samples_ms) >= 3 and t.median_ms > 0 for t in result.timings)
    assert result.models["test"]["parameters_M"] > 0 and result.models["test"]["GMACs"] > 0
    assert [row["runtime"] for row in result.end_to_end] == ["ort-fp32", "ort-int8", "torch-opt"]
    assert all(row["fps"] > 0 and row["people_per_frame"] == 1 for row in result.end_to_end)
    assert result.int8_accuracy["held_out"]["mean_xy"] >= 0 and result.int8_accuracy["held_out"]["crops"] == 16
    report = markdown_report(result)
    assert "| TEST |" in report and "Speed-up over eager" in report and "End to end" in report
    assert f"malloc thresholds fixed: {result.machine['steady_allocator']}" in report
    paths = write_report(result, tmp_path)
    assert json.loads(paths["json"].read_text())["timings"][0]["variant"] == "test"
    assert paths["plot"].read_bytes()[:4] == b"\x89PNG" and paths["markdown"].read_text() == report


def test_bench_cli_quick_run(tmp_path, capsys):
    assert cli_main(["bench", "--variants", "test", "--repeats", "2", "--batches", "1", "--runtimes", "eager",
                     "torch-opt", "--no-e2e", "--out", str(tmp_path)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "torch-opt" in out and (tmp_path / "inference.md").is_file()
    with pytest.raises(ValueError, match="unknown runtimes"):
        run_benchmark(variants=["test"], runtimes=["tensorrt"])
    with pytest.raises(ValueError, match="e2e_frames must be >= 0"):
        run_benchmark(variants=["test"], e2e_frames=-1)


def test_zero_end_to_end_frames_skips_that_measurement():
    result = run_benchmark(variants=["test"], batches=[1], runtimes=["eager"], repeats=2, e2e_frames=0)
    assert result.end_to_end == [] and [t.runtime for t in result.timings] == ["eager"]


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_steady_allocator_is_applied_on_glibc():
    assert steady_allocator() is True
