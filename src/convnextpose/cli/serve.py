"""``convnextpose serve``: the fitness web app (copy a trainer's pose, live 3D feedback).

Binds to 127.0.0.1 unless ``--lan`` (or ``--host``) says otherwise. See docs/fitness.md.
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import socket
import time
from pathlib import Path

from ..models.checkpoint import DEFAULT_PRETRAINED, resolve_weights

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="fitness web app: copy a trainer's pose with live 3D feedback",
        description="Start the fitness web app. Open the printed address in a browser (a phone on the LAN needs "
        "--lan, and https for its camera: see docs/fitness.md).",
    )
    parser.add_argument(
        "--checkpoint",
        default=None,
        help=f"checkpoint (.pth/.pth.tar), .onnx file or shipped weights name (default: {DEFAULT_PRETRAINED} if installed)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--lan", action="store_true", help="listen on all interfaces (0.0.0.0), for a phone on the LAN")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--max-upload-mb", type=float, default=8.0, help="largest upload in MB (default 8)")
    parser.add_argument(
        "--max-queued-images",
        type=int,
        default=32,
        metavar="N",
        help="single images (/api/pose, trainer photos) that may wait for the model; more get 503 (default 32)",
    )
    parser.add_argument(
        "--backend", choices=("torch", "onnx"), default=None, help="default: onnx for .onnx, else torch"
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:i] (default cpu)")
    parser.add_argument(
        "--detector",
        choices=("auto", "hog", "frame"),
        default="auto",
        help="person boxes: auto (HOG; one person or none: found from the whole frame and HOG's box, re-cropped "
        "around the network's joints; default), hog (falling back to the whole frame), or always the whole frame",
    )
    parser.add_argument("--min-confidence", type=float, default=0.1, help="joints below this count as missing")
    parser.add_argument("--hold", type=float, default=3.0, help="seconds to hold a pose (default 3)")
    parser.add_argument("--tolerance", type=float, default=15.0, help="degrees of error that still match (default 15)")
    parser.add_argument("--threads", type=int, default=None, help="inference threads")
    parser.add_argument("--ssl-certfile", default=None, help="TLS certificate (PEM): serve https, for phone cameras")
    parser.add_argument("--ssl-keyfile", default=None, help="TLS private key (PEM)")
    parser.set_defaults(func=run)


def _lan_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses, from its own host name (no packets sent)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return sorted({info[4][0] for info in infos if not info[4][0].startswith("127.")})


class _Throttle(logging.Filter):
    """Let each kind of log message through at most once a minute (per-frame warnings would flood)."""

    def __init__(self, interval_s: float = 60.0) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = re.sub(r"\d+", "#", record.getMessage())
        now = time.monotonic()
        if now - self._last.get(key, -math.inf) < self.interval_s:
            return False
        self._last[key] = now
        return True


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..app import create_app, estimator_from_model
        from ..app.server import SERVER_OPTIONS
    except ImportError as exc:
        raise RuntimeError(f"{exc}; the fitness app needs: pip install convnextpose[app]") from None

    if args.max_upload_mb <= 0 or not 0 < args.port < 65536 or args.max_queued_images < 0:
        raise ValueError("--max-upload-mb must be > 0, --port in 1..65535 and --max-queued-images >= 0")
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise ValueError("--ssl-certfile and --ssl-keyfile go together")
    checkpoint = resolve_weights(args.checkpoint)
    # The estimator logs per image (e.g. "no person detected"); at camera frame rates that floods
    # the console, so keep its info messages for -v and let each kind of warning through once a minute.
    if not getattr(args, "verbose", False):
        logging.getLogger("convnextpose.inference").setLevel(logging.WARNING)
    estimator_logger = logging.getLogger("convnextpose.inference.estimator")
    if not any(isinstance(f, _Throttle) for f in estimator_logger.filters):
        estimator_logger.addFilter(_Throttle())
    backend = args.backend or ("onnx" if str(checkpoint).lower().endswith(".onnx") else "torch")
    host = "0.0.0.0" if args.lan else args.host
    estimator = estimator_from_model(
        checkpoint, backend=backend, device=args.device, detector=args.detector, threads=args.threads
    )
    app = create_app(
        estimator,
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        max_queued_images=args.max_queued_images,
        min_confidence=args.min_confidence,
        default_hold_s=args.hold,
        tolerance_deg=args.tolerance,
        model=f"{Path(str(checkpoint)).name} ({backend})",
    )
    scheme = "https" if args.ssl_certfile else "http"
    print(f"Fitness app: {scheme}://127.0.0.1:{args.port}/ (model {checkpoint}, {backend})", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        for address in _lan_addresses():
            print(f"  on the LAN: {scheme}://{address}:{args.port}/", flush=True)
        if scheme == "http":
            print("  note: phone browsers only give the camera to https pages; see docs/fitness.md", flush=True)
    uvicorn.run(
        app,
        host=host,
        port=args.port,
        log_level="warning",
        **SERVER_OPTIONS,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
    )
    return 0
