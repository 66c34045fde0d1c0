"""The job's work: a deterministic 128x128 grayscale PNG thumbnail of the downloaded image.

Deterministic means the same input bytes always give the same output bytes (with one Pillow
version), so the chaos checker can compute the expected result of every fixture image.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from system.constants import IMAGE_FORMATS, MAX_DECODED_BYTES, RESULT_FORMAT, THUMBNAIL_SIZE
from system.errors import PermanentJobError

# We check the pixel count ourselves, with our own limit, before decoding.
Image.MAX_IMAGE_PIXELS = None
# Bytes Pillow keeps per pixel in memory: 1-byte modes, 16-bit modes, and the rest (RGB is
# stored padded to 4 bytes, like RGBA, CMYK, LA, I and F).
_ONE_BYTE = {"1", "L", "P"}


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    sha256: str
    width: int
    height: int


def make_thumbnail(
    data: bytes, max_pixels: int, max_decoded_bytes: int = MAX_DECODED_BYTES
) -> Thumbnail:
    """Decode ``data``, refuse what is not a (reasonable) image, and make the thumbnail."""
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise PermanentJobError(f"not an image: {_short(exc)}") from None
    if image.format not in IMAGE_FORMATS:
        raise PermanentJobError(f"unsupported image format {image.format!r}")
    width, height = image.size
    if width * height > max_pixels:
        raise PermanentJobError(
            f"image too large: {width}x{height} = {width * height} pixels "
            f"(limit {max_pixels}; a decompression bomb?)"
        )
    decoded = decoded_bytes(image)
    if decoded > max_decoded_bytes:
        raise PermanentJobError(
            f"image too large: {width}x{height} {image.mode} decodes to {decoded} bytes "
            f"(limit {max_decoded_bytes} per job)"
        )
    try:
        image.thumbnail(THUMBNAIL_SIZE)  # uses JPEG draft mode: decodes at reduced scale
        gray = image.convert("L")
        out = io.BytesIO()
        gray.save(out, format=RESULT_FORMAT)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PermanentJobError(f"cannot decode image: {_short(exc)}") from None
    result = out.getvalue()
    return Thumbnail(result, hashlib.sha256(result).hexdigest(), gray.width, gray.height)


def decoded_bytes(image: Image.Image) -> int:
    """An upper bound on the bytes the decoded image holds (JPEG decodes at its draft scale)."""
    width, height = image.size
    if image.format == "JPEG":
        # thumbnail() asks draft() for at least twice the thumbnail size; draft scales by 1/2^k.
        floor = 2 * max(THUMBNAIL_SIZE)
        scale = 8
        while scale > 1 and min(width, height) // scale < floor:
            scale //= 2
        width, height = -(-width // scale), -(-height // scale)
    if image.mode in _ONE_BYTE:
        per_pixel = 1
    elif image.mode.startswith("I;16"):
        per_pixel = 2
    else:
        per_pixel = 4
    return width * height * per_pixel


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:200]
