"""Upload checks: bodies capped while they stream in, images checked on their bytes before decoding.

The client never names a file; the name and declared type of an upload never decide anything. A
body of the wrong media type is refused with 415; a body of an accepted type that is not a usable
image (corrupt, truncated, not an image at all) with 400, saying what is wrong.
"""

from __future__ import annotations

import io
from typing import Any

import cv2
import numpy as np

from ..image import ImageError, decode_image_bytes

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP")
ACCEPTED = "JPEG, PNG, WebP or BMP"


class UploadError(Exception):
    """A request the server refuses; becomes an HTTP error with ``status``, ``message`` and ``headers``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def _signature(data: bytes) -> str | None:
    """The image format the first bytes announce, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for magic, fmt in _MAGIC.items():
        if data.startswith(magic):
            return fmt
    return None


_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"BM": "BMP", b"GIF8": "GIF", b"II*\x00": "TIFF"}


def _image_header(data: bytes, what: str) -> tuple[str, int, int] | None:
    """(format, width, height) read from the header, nothing decoded; None only without Pillow.

    Raises:
        UploadError: 415 for a format not accepted; 400 for bytes that are no image, or whose header is broken.
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return None
    try:
        with Image.open(io.BytesIO(data)) as header:
            fmt, (width, height) = str(header.format), header.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        fmt = _signature(data)
        if fmt is None:
            raise UploadError(
                400, f"{what}: not an image: its {len(data):,} bytes start like no {ACCEPTED} file"
            ) from None
        width = height = None
    if fmt not in ALLOWED_FORMATS:
        raise UploadError(415, f"{what}: {fmt} images are not accepted; send {ACCEPTED}")
    if width is None:
        raise UploadError(400, f"{what}: a corrupt or truncated {fmt} image: its header cannot be read")
    return fmt, int(width), int(height)


def check_image(data: bytes, max_pixels: int, what: str = "upload") -> np.ndarray:
    """Decode uploaded bytes to RGB uint8 after checking format and size from the header.

    Raises:
        UploadError: 400 empty, or not a decodable image (no image format, or a corrupt or truncated
            one, said which); 415 an image of a format not accepted (GIF, TIFF, ...); 413 too many pixels.
    """
    if not data:
        raise UploadError(400, f"{what}: empty body; send an image")
    header = _image_header(data, what)
    if header is not None:
        _fmt, width, height = header
        if width * height > max_pixels:
            raise UploadError(413, f"{what}: {width}x{height} pixels is more than the limit of {max_pixels:,}")
    try:
        image = decode_image_bytes(data, what)
    except ImageError:
        found = f"{header[0]} image: its header says {header[1]}x{header[2]} px" if header else "image"
        raise UploadError(400, f"{what}: a corrupt or truncated {found}, but the pixels do not decode") from None
    if image.shape[0] * image.shape[1] > max_pixels:
        raise UploadError(413, f"{what}: {image.shape[1]}x{image.shape[0]} pixels is more than the limit")
    return image


def shrink(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Downscale so the longer side is at most ``max_side``; returns the image and original/new scale."""
    height, width = image.shape[:2]
    factor = max(height, width) / float(max_side)
    if factor <= 1.0:
        return image, 1.0
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), width / size[0]


def content_type(request: Any) -> str:
    """The request's media type, lower case, without parameters (``""`` when not given)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Any, limit: int) -> bytes:
    """The whole body, refused (413) as soon as it is over ``limit`` bytes, declared or streamed."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise UploadError(400, "bad Content-Length header")
        if int(declared) > limit:
            raise UploadError(413, f"upload of {int(declared):,} bytes is over the limit of {limit:,} bytes")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:  # a body without Content-Length, or one that lied about it
            raise UploadError(413, f"upload is over the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_image(request: Any, what: str, max_bytes: int, max_pixels: int) -> np.ndarray:
    """The image of a request: the raw body (image/*), or the 'image' field of a multipart form.

    Raises:
        UploadError: see :func:`read_body` and :func:`check_image`; 415 for a body that is neither.
    """
    from starlette.requests import Request as StarletteRequest

    kind = content_type(request)
    raw = kind.startswith("image/") or kind in ("application/octet-stream", "")
    if not raw and kind != "multipart/form-data":
        raise UploadError(
            415, f"{what}: send the image as the body (Content-Type image/jpeg, ...) or as multipart field 'image'"
        )
    body = await read_body(request, max_bytes)
    if kind != "multipart/form-data":
        return check_image(body, max_pixels, what)
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await StarletteRequest(request.scope, replay).form(max_files=2, max_fields=10)
    except Exception:
        raise UploadError(400, f"{what}: malformed multipart form") from None
    upload = form.get("image")
    if upload is None or isinstance(upload, str):
        raise UploadError(400, f"{what}: the multipart form needs a file field named 'image'")
    data = await upload.read()
    await form.close()
    return check_image(data, max_pixels, what)
