"""`convnextpose serve`: arguments, checkpoint resolution and what it hands to uvicorn."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from conftest import run_cli  # noqa: E402
from convnextpose.cli import build_parser, main  # noqa: E402
from convnextpose.models.checkpoint import DEFAULT_PRETRAINED  # noqa: E402


def test_help_lists_the_options():
    result = run_cli("serve", "--help")
    assert result.returncode == 0
    for flag in ("--checkpoint", "--host", "--port", "--max-upload-mb", "--lan", "--ssl-certfile"):
        assert flag in result.stdout
    assert "127.0.0.1" in result.stdout


def test_without_a_checkpoint_the_error_says_what_to_pass():
    from convnextpose.models.checkpoint import PRETRAINED

    if DEFAULT_PRETRAINED in PRETRAINED:
        pytest.skip("shipped weights are registered: serve has a default (it would start the server)")
    result = run_cli("serve", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "--checkpoint" in result.stderr and DEFAULT_PRETRAINED in result.stderr


def test_missing_checkpoint_file(tmp_path):
    result = run_cli("serve", "--checkpoint", str(tmp_path / "nope.pth"), check=False)
    assert result.returncode == 1 and "checkpoint not found" in result.stderr and "nope.pth" in result.stderr


@pytest.fixture(autouse=True)
def _restore_inference_logging():
    """`serve` quiets the estimator's loggers for its process; undo that for the tests that follow."""
    import logging

    loggers = [logging.getLogger(n) for n in ("convnextpose.inference", "convnextpose.inference.estimator")]
    saved = [(lg.level, list(lg.filters)) for lg in loggers]
    yield
    for lg, (level, filters) in zip(loggers, saved):
        lg.setLevel(level)
        lg.filters[:] = filters


@pytest.fixture
def checkpoint(tmp_path, tiny_model):
    from convnextpose.models import save_checkpoint

    return save_checkpoint(tmp_path / "tiny.pth", tiny_model)


@pytest.mark.parametrize(
    ("extra", "host", "upload"),
    [
        ([], "127.0.0.1", 8 * 1024 * 1024),
        (["--lan", "--max-upload-mb", "2", "--max-queued-images", "5"], "0.0.0.0", 2 * 1024 * 1024),
    ],
)
def test_serve_binds_loopback_unless_asked(checkpoint, monkeypatch, capsys, extra, host, upload):
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(app=app, **kwargs))
    assert main(["serve", "--checkpoint", str(checkpoint), "--port", "8123", *extra]) == 0
    assert seen["host"] == host and seen["port"] == 8123 and seen["limit_concurrency"] > 0
    settings = seen["app"].state.settings
    assert settings.max_upload_bytes == upload and "tiny.pth" in settings.model
    assert settings.max_queued_images == (5 if extra else 32)
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/" in out
    assert ("https pages" in out) == bool(extra)  # the phone-camera note comes with --lan


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-upload-mb", "0"], "--max-upload-mb"),
        (["--port", "70000"], "--port"),
        (["--max-queued-images", "-1"], "--max-queued-images"),
        (["--ssl-certfile", "cert.pem"], "--ssl-keyfile"),
    ],
)
def test_bad_arguments(checkpoint, capsys, args, message):
    assert main(["serve", "--checkpoint", str(checkpoint), *args]) == 1
    assert message in capsys.readouterr().err


def test_serve_is_registered():
    parser = build_parser()
    args = parser.parse_args(["serve", "--checkpoint", "x"])
    assert args.host == "127.0.0.1" and args.port == 8000 and not args.lan
