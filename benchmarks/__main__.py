"""Run benchmarks: ``python -m benchmarks`` runs all, ``python -m benchmarks data train`` some.

Each ``benchmarks/bench_<name>.py`` has ``main(argv: list[str]) -> int``; arguments after ``--``
go to it. Results are printed as Markdown and written under ``output/benchmarks/``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    folder = Path(__file__).parent
    return sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules([str(folder)]) if m.name.startswith("bench_"))


def main(argv: list[str]) -> int:
    names, extra = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    names = names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available()}", file=sys.stderr)
        return 2
    status = 0
    for name in names:
        print(f"\n## benchmark: {name}\n", flush=True)
        status |= importlib.import_module(f"benchmarks.bench_{name}").main(list(extra))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
