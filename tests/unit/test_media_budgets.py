"""Pre-checks before decoding (issue 11 #2, #16): each hostile file is built here, tiny and in memory, and refused
from its structure with a typed MediaError, before Pillow opens it."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from realeyes.config import Settings
from realeyes.errors import MediaTooLarge
from realeyes.media import load_media


def progressive_jpeg(side: int = 64, extra_scans: int = 0, colour: tuple[int, int, int] | None = None) -> bytes:
    """A progressive JPEG whose last scan is repeated `extra_scans` times (each repeat is decoded over the image)."""
    if colour is None:
        pixels = np.random.default_rng(0).integers(0, 256, size=(side, side, 3), dtype=np.uint8)
        image = Image.fromarray(pixels)
    else:
        image = Image.new("RGB", (side, side), colour)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", progressive=True, quality=90)
    data = buffer.getvalue()
    last_scan, end = data.rfind(b"\xff\xda"), data.rfind(b"\xff\xd9")
    return data[:end] + data[last_scan:end] * extra_scans + data[end:]


def gif(frames: int = 1, side: int = 1) -> bytes:
    """A GIF of `frames` one-pixel frames on a side x side logical screen (15 bytes a frame)."""
    header = b"GIF89a" + struct.pack("<HHBBB", side, side, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return header + frame * frames + b";"


def tiff_chain(pages: int) -> bytes:
    """A little-endian TIFF of `pages` 1x1 grey pages, each IFD linking to the next (114 bytes a page)."""
    entries = [(256, 1), (257, 1), (258, 8), (259, 1), (262, 1), (273, 0), (277, 1), (278, 1), (279, 1)]
    ifd_size = 2 + 12 * len(entries) + 4
    pixel_at = 8 + pages * ifd_size
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for index in range(pages):
        out += struct.pack("<H", len(entries))
        for tag, value in entries:
            out += struct.pack("<HHII", tag, 4, 1, pixel_at if tag == 273 else value)
        out += struct.pack("<I", 0 if index == pages - 1 else 8 + (index + 1) * ifd_size)
    return bytes(out + b"\x80")


def webp_declaring(side: int) -> bytes:
    """A solid lossless WebP (38 bytes) whose VP8L header is rewritten to side x side: its pixels cost no bits, so
    it decodes to a side x side canvas."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(buffer, format="WEBP", lossless=True)
    data = bytearray(buffer.getvalue())
    at = data.find(b"VP8L") + 9  # fourcc, chunk size, signature byte
    bits = int.from_bytes(data[at : at + 4], "little") & ~((1 << 28) - 1)
    data[at : at + 4] = (bits | (side - 1) | ((side - 1) << 14)).to_bytes(4, "little")
    return bytes(data)


def animated_webp(frames: int) -> bytes:
    """An animated WebP: a real first frame, then `frames - 1` ANMF chunks copied from it."""
    buffer = io.BytesIO()
    first = Image.new("RGB", (4, 4), (1, 2, 3))
    first.save(buffer, format="WEBP", save_all=True, append_images=[Image.new("RGB", (4, 4), (9, 9, 9))], lossless=True)
    data = buffer.getvalue()
    start = data.find(b"ANMF")
    length = int.from_bytes(data[start + 4 : start + 8], "little")
    chunk = data[start : start + 8 + length + (length & 1)]
    body = data[12:start] + chunk * frames
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


@pytest.fixture
def never_opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Fails the test if Pillow is asked to open the file: the refusal must come from the pre-checks."""
    opened: list[object] = []
    original = Image.open

    def spy(*args: object, **kwargs: object) -> Image.Image:
        opened.append(args[0])
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Image, "open", spy)
    yield opened
    assert not opened, "Pillow opened a file the pre-checks should have refused"


# --- JPEG scans -------------------------------------------------------------------------------------------------


def test_a_progressive_jpeg_with_a_thousand_scans_is_refused_before_decoding(never_opened: list[object]) -> None:
    bomb = progressive_jpeg(extra_scans=1000)
    assert len(bomb) < 700_000
    with pytest.raises(MediaTooLarge, match=r"more than 100 scans.*REALEYES_MAX_JPEG_SCANS"):
        load_media(bomb)


def test_ordinary_jpegs_are_within_the_scan_limit() -> None:
    from realeyes.media.precheck import count_jpeg_scans

    progressive = progressive_jpeg(side=128)
    assert 2 <= count_jpeg_scans(progressive, 100) <= 20
    assert load_media(progressive).width == 128
    baseline = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(baseline, format="JPEG")
    assert count_jpeg_scans(baseline.getvalue(), 100) == 1
    # The limit is a setting: raised, the same file decodes.
    assert load_media(progressive_jpeg(extra_scans=150), Settings(max_jpeg_scans=200)).width == 64


def test_a_jpeg_made_of_thousands_of_marker_segments_is_refused(never_opened: list[object]) -> None:
    data = progressive_jpeg()
    comments = b"\xff\xfe\x00\x03x" * 5000  # 5,000 one-byte comments before the frame header
    with pytest.raises(MediaTooLarge, match="marker segments"):
        load_media(data[:2] + comments + data[2:])


# --- frame counts -----------------------------------------------------------------------------------------------


def test_a_gif_with_a_hundred_thousand_frames_is_refused_without_walking_them(never_opened: list[object]) -> None:
    bomb = gif(frames=100_000)  # 1.5 MB; today's n_frames walks every frame in Python
    started = time.perf_counter()
    with pytest.raises(MediaTooLarge, match=r"more than 5000 frames.*REALEYES_MAX_FRAMES"):
        load_media(bomb)
    assert time.perf_counter() - started < 2.0


def test_a_tiff_with_a_long_ifd_chain_is_refused_without_walking_it(never_opened: list[object]) -> None:
    bomb = tiff_chain(pages=20_000)  # 2.3 MB; today's n_frames follows every link
    started = time.perf_counter()
    with pytest.raises(MediaTooLarge, match=r"more than 5000 pages \(IFDs\)"):
        load_media(bomb)
    assert time.perf_counter() - started < 2.0


def test_an_animated_webp_with_too_many_frames_is_refused(never_opened: list[object]) -> None:
    with pytest.raises(MediaTooLarge, match=r"more than 50 frames"):
        load_media(animated_webp(frames=51), Settings(max_frames=50))


@pytest.mark.parametrize("kind", ["gif", "tiff", "webp"])
def test_frame_counts_below_the_limit_are_exact(kind: str) -> None:
    data = {"gif": gif(frames=7), "tiff": tiff_chain(pages=7), "webp": animated_webp(frames=7)}[kind]
    media = load_media(data)
    assert media.properties["frame_count"] == 7 and media.properties["animated"]
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 7  # what Pillow reaches by walking them all


def test_a_gif_split_into_tiny_data_blocks_is_refused(never_opened: list[object]) -> None:
    data = gif()
    comment = b"\x21\xfe" + b"\x01x" * 100_000 + b"\x00"  # one comment extension of 100,000 one-byte blocks
    with pytest.raises(MediaTooLarge, match="tiny data blocks"):
        load_media(data[:19] + comment + data[19:])


# --- decoded pixels x frames (issue 11 #16) ---------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "size"), [("webp", 38), ("gif", 35)])
def test_a_tiny_file_declaring_a_7000_px_canvas_is_refused(kind: str, size: int, never_opened: list[object]) -> None:
    data = webp_declaring(7000) if kind == "webp" else gif(side=7000)
    assert len(data) == size
    with pytest.raises(MediaTooLarge, match=r"7000x7000 = 49\.0 million decoded pixels.*REALEYES_MAX_PIXELS_PER_BYTE"):
        load_media(data)


def test_frames_count_toward_the_decoded_pixel_budget() -> None:
    assert load_media(gif(frames=1, side=2000)).width == 2000  # 4 MP: within the floor whatever the file size
    with pytest.raises(MediaTooLarge, match=r"2000x2000 x 1000 frames"):
        load_media(gif(frames=1000, side=2000))


def test_large_but_ordinary_images_are_within_the_budget() -> None:
    flat = io.BytesIO()
    Image.new("RGB", (3000, 2000), (120, 130, 140)).save(flat, format="PNG")  # a flat 6 MP PNG compresses ~1000:1
    assert load_media(flat.getvalue()).width == 3000
    # The budget is a setting: lowered, the same file is refused.
    with pytest.raises(MediaTooLarge, match="REALEYES_MAX_PIXELS_PER_BYTE"):
        load_media(flat.getvalue(), Settings(max_pixels_per_byte=10))


def test_the_38_byte_webp_costs_no_memory() -> None:
    """In a fresh process, so that the peak RSS is this file's: the refusal costs well under the +660 MB measured."""
    script = (
        "import json, resource\n"
        "from realeyes.media import load_media\n"
        "from tests_budget_file import DATA\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    load_media(DATA)\n"
        "    outcome = 'accepted'\n"
        "except Exception as exc:\n"
        "    outcome = type(exc).__name__\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'outcome': outcome, 'grew_mb': (after - before) / 1024}))\n"
    ).replace("from tests_budget_file import DATA", f"DATA = {webp_declaring(7000)!r}")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["outcome"] == "MediaTooLarge"
    assert report["grew_mb"] < 50
