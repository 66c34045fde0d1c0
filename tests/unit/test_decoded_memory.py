"""The per-job memory bound: decoded bytes (pixels x bytes per pixel) are capped before decoding."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import pytest
from PIL import Image

from system.errors import PermanentJobError
from system.imaging import make_thumbnail


def encoded(mode: str, size: tuple[int, int], fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 0).save(out, format=fmt)
    return out.getvalue()


def test_an_rgba_image_within_the_pixel_cap_is_refused_by_its_decoded_size():
    data = encoded("RGBA", (1000, 1000))  # 1 M pixels, 4 MB decoded
    with pytest.raises(PermanentJobError, match="decodes to 4000000 bytes"):
        make_thumbnail(data, max_pixels=2_000_000, max_decoded_bytes=2_000_000)


def test_the_same_pixels_in_one_byte_mode_fit():
    data = encoded("L", (1000, 1000))  # 1 MB decoded
    thumb = make_thumbnail(data, max_pixels=2_000_000, max_decoded_bytes=2_000_000)
    assert (thumb.width, thumb.height) == (128, 128)


def test_a_large_jpeg_is_judged_at_its_draft_scale():
    data = encoded("RGB", (2048, 2048), "JPEG")  # 16 MB at full scale, 256 KB at 1/8
    thumb = make_thumbnail(data, max_pixels=10_000_000, max_decoded_bytes=1_000_000)
    assert (thumb.width, thumb.height) == (128, 128)


CHILD = textwrap.dedent(
    """
    import resource, sys, threading
    from system.errors import PermanentJobError
    from system.imaging import make_thumbnail
    data = open(sys.argv[1], "rb").read()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cap = int(sys.argv[2])
    errors = []
    def job():
        try:
            make_thumbnail(data, max_pixels=40_000_000, max_decoded_bytes=cap)
        except PermanentJobError:
            pass
        except Exception as exc:
            errors.append(exc)
    threads = [threading.Thread(target=job) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit(f"unexpected: {errors[0]!r}")
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    """
)


def peak_growth_kib(path, cap: int) -> int:
    """Peak RSS growth of a fresh process running four jobs on ``path`` at once."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(cap)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip())


def test_four_jobs_on_a_small_png_that_decodes_to_64_mb_keep_memory_flat(tmp_path):
    path = tmp_path / "rgba.png"
    path.write_bytes(encoded("RGBA", (4000, 4000)))  # ~200 KB on disk, 64 MB decoded
    grown_kib = peak_growth_kib(path, 16 * 1024 * 1024)
    # One decode alone would add 64 MB; refused before decoding, the peak barely moves.
    assert grown_kib < 32 * 1024, f"peak RSS grew by {grown_kib} KiB"
