"""Speed benchmark of the network and the whole pipeline on this machine (``convnextpose bench``, ``benchmarks/``).

Above :mod:`convnextpose.inference` and :mod:`convnextpose.export`: it exports the models it times.

- :mod:`.timing`: interleaved timing, the steady allocator, the machine's description;
- :mod:`.runtimes`: what is timed (:data:`RUNTIMES` of each variant, the video pipeline end to end);
- :mod:`.int8_accuracy`: what INT8 costs a trained network;
- :mod:`.run`: :func:`run_benchmark`, one run of all of it;
- :mod:`.report`: Markdown, JSON and a bar chart.
"""

from __future__ import annotations

from .int8_accuracy import int8_accuracy, photo_agreement
from .report import markdown_report, plot_report, write_report
from .run import BenchResult, run_benchmark
from .runtimes import RUNTIMES, end_to_end_fps, speed_int8_model
from .timing import Timing, machine_info, ort_runner, steady_allocator, time_interleaved, torch_runner

__all__ = [
    "RUNTIMES",
    "BenchResult",
    "Timing",
    "end_to_end_fps",
    "int8_accuracy",
    "machine_info",
    "markdown_report",
    "ort_runner",
    "photo_agreement",
    "plot_report",
    "run_benchmark",
    "speed_int8_model",
    "steady_allocator",
    "time_interleaved",
    "torch_runner",
    "write_report",
]
