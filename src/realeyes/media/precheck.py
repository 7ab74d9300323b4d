"""Cheap structural checks before any pixel is decoded: how much work a file asks of its decoder.

A few hundred bytes can ask a decoder for minutes of CPU or gigabytes of memory: a progressive JPEG that repeats
its scans thousands of times, a TIFF whose page chain (or a GIF or WebP whose frame list) runs to millions, a
34-byte WebP whose header declares a 7000x7000 canvas. These checks read only the container's structure (marker
segments, block and chunk headers, IFD links), stop as soon as a limit is passed, and refuse with a typed
MediaError saying which setting to change. What they miss, the service's wall-clock budget per analysis stops.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from realeyes.config import Settings
from realeyes.errors import CorruptMedia, MediaTooLarge
from realeyes.media.sniff import GIF, JPEG, TIFF, WEBP, Format

# A JPEG's entropy-coded data ends at the next marker: 0xFF followed by neither a stuffed 0x00, a restart marker
# (RST0-7, which stays inside the scan) nor another 0xFF (fill bytes before the marker; the last one matches).
# A literal first byte lets the regex engine skip ahead at memchr speed (30 MB in about 15 ms).
_END_OF_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# Legitimate JPEGs have a few dozen marker segments (a few per scan); a file made of millions of tiny ones costs
# the header parser. Allowed: this many, plus four per allowed scan.
JPEG_MAX_SEGMENTS = 4096
# Below this many decoded pixels (all frames together) the bytes-per-pixel budget does not apply: small images
# cost little whatever their compression ratio.
DECODE_BUDGET_FLOOR_PIXELS = 4_000_000


@dataclass(frozen=True)
class Structure:
    """What the container declares, read without decoding: frames (None: not counted here) and canvas size."""

    frames: int | None = None
    size: tuple[int, int] | None = None


def precheck(data: bytes, fmt: Format, settings: Settings) -> Structure:
    """Refuse files whose structure asks for too much work; return what was learned on the way."""
    if fmt is JPEG:
        scans = count_jpeg_scans(data, settings.max_jpeg_scans)
        if scans > settings.max_jpeg_scans:
            raise MediaTooLarge(
                f"The JPEG has more than {settings.max_jpeg_scans} scans (a progressive JPEG normally has about "
                "10; each one is decoded over the whole image, so thousands are a CPU bomb). "
                "Set REALEYES_MAX_JPEG_SCANS to change the limit."
            )
        return Structure()
    counters = {GIF: _gif_structure, TIFF: _tiff_structure, WEBP: _webp_structure}
    counter = counters.get(fmt)
    if counter is None:
        return Structure()
    structure = counter(data, settings.max_frames)
    if structure.frames is not None:
        check_frames(structure.frames, fmt, settings)
    return structure


def check_frames(frames: int, fmt: Format, settings: Settings) -> None:
    if frames > settings.max_frames:
        noun = "pages (IFDs)" if fmt is TIFF else "frames"
        raise MediaTooLarge(
            f"The {fmt.name.upper()} has more than {settings.max_frames} {noun}; only the first is analysed, and "
            f"walking that many costs more than it is worth. Set REALEYES_MAX_FRAMES to change the limit."
        )


def check_decode_budget(size: tuple[int, int], frames: int, file_bytes: int, settings: Settings) -> None:
    """Decoded pixels x frames must stay within a budget proportional to the file's size (above a floor), so that
    a file of a few bytes cannot ask for hundreds of megabytes of pixels."""
    width, height = size
    decoded = width * height * max(frames, 1)
    allowed = max(DECODE_BUDGET_FLOOR_PIXELS, settings.max_pixels_per_byte * file_bytes)
    if decoded > allowed:
        shape = f"{width}x{height}" + (f" x {frames} frames" if frames > 1 else "")
        raise MediaTooLarge(
            f"The image declares {shape} = {decoded / 1e6:.1f} million decoded pixels from only {file_bytes:,} "
            f"bytes; at most {settings.max_pixels_per_byte:,} decoded pixels per byte of file are accepted above "
            f"{DECODE_BUDGET_FLOOR_PIXELS / 1e6:.0f} MP, a guard against tiny files that expand to huge canvases "
            "(set REALEYES_MAX_PIXELS_PER_BYTE to change it)."
        )


def count_jpeg_scans(data: bytes, limit: int) -> int:
    """Start-of-scan markers up to the first end-of-image, counting no further than limit + 1."""
    scans = segments = 0
    max_segments = JPEG_MAX_SEGMENTS + 4 * limit
    pos, end = 2, len(data)  # after SOI
    while pos + 1 < end:
        if data[pos] != 0xFF:  # stray bytes between segments (libjpeg skips them): on to the next marker
            found = _END_OF_SCAN.search(data, pos)
            if found is None:
                break
            pos = found.start()
            continue
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # EOI: what follows (an MPO's other images, appended data) is never decoded
            break
        if 0xD0 <= marker <= 0xD7 or marker in (0x01, 0x00):  # standalone markers
            pos += 2
            continue
        segments += 1
        if segments > max_segments:
            raise MediaTooLarge(
                f"The JPEG is made of more than {max_segments} marker segments (a normal one has a few "
                "dozen); it is refused before its headers are parsed."
            )
        if pos + 4 > end:
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        pos += 2 + length
        if marker == 0xDA:
            scans += 1
            if scans > limit:
                return scans
            found = _END_OF_SCAN.search(data, pos)
            if found is None:
                break
            pos = found.start()
    return scans


def _gif_structure(data: bytes, limit: int) -> Structure:
    """Frames (image descriptors) and the logical screen, walking block headers without decoding LZW data."""
    if len(data) < 13:
        raise CorruptMedia("The GIF is truncated inside its header.")
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    pos, end = 13, len(data)
    if flags & 0x80:
        pos += 3 << ((flags & 7) + 1)
    frames = blocks = 0
    # Data sub-blocks are at most 255 bytes; a file made of mostly tiny ones is built to slow parsers down.
    max_blocks = end // 16 + 4 * limit + 1024
    while pos < end:
        introducer = data[pos]
        if introducer == 0x3B:  # trailer
            break
        if introducer == 0x21:  # extension: label, then sub-blocks
            pos += 2
        elif introducer == 0x2C:  # image descriptor, optional local colour table, LZW code size, sub-blocks
            frames += 1
            if frames > limit:
                break
            if pos + 10 > end:
                break
            local = data[pos + 9]
            pos += 10 + ((3 << ((local & 7) + 1)) if local & 0x80 else 0) + 1
        else:  # not a block: decoders stop here too
            break
        while pos < end:  # sub-blocks up to the zero-length terminator
            size = data[pos]
            pos += 1 + size
            blocks += 1
            if size == 0:
                break
        if blocks > max_blocks:
            raise MediaTooLarge(
                f"The GIF is split into {blocks:,} tiny data blocks in {end:,} bytes (an encoder writes blocks of "
                "up to 255 bytes); it is refused before decoding."
            )
    return Structure(frames=max(frames, 1), size=(width, height))


def _tiff_structure(data: bytes, limit: int) -> Structure:
    """Pages: the IFD chain followed link by link, stopping at limit + 1, a loop or a link out of the file."""
    if len(data) < 8:
        raise CorruptMedia("The TIFF is truncated inside its header.")
    order = "<" if data[:2] == b"II" else ">"
    big = struct.unpack_from(order + "H", data, 2)[0] == 43
    if big:
        if len(data) < 16:
            raise CorruptMedia("The BigTIFF is truncated inside its header.")
        count_format, entry_size, link_format = order + "Q", 20, order + "Q"
        offset = struct.unpack_from(order + "Q", data, 8)[0]
    else:
        count_format, entry_size, link_format = order + "H", 12, order + "I"
        offset = struct.unpack_from(order + "I", data, 4)[0]
    count_size, link_size = struct.calcsize(count_format), struct.calcsize(link_format)
    frames, seen = 0, set()
    while offset > 0 and offset + count_size <= len(data) and offset not in seen:
        seen.add(offset)
        frames += 1
        if frames > limit:
            break
        entries = struct.unpack_from(count_format, data, offset)[0]
        link_at = offset + count_size + entries * entry_size
        if link_at + link_size > len(data):
            break
        offset = struct.unpack_from(link_format, data, link_at)[0]
    return Structure(frames=max(frames, 1))


def _webp_structure(data: bytes, limit: int) -> Structure:
    """Frames (ANMF chunks, or one still image) and the canvas, walking RIFF chunk headers only."""
    pos, end = 12, min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    frames, size = 0, None
    while pos + 8 <= end:
        fourcc, length = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = pos + 8
        if fourcc == b"VP8X" and body + 10 <= len(data):
            size = (int.from_bytes(data[body + 4 : body + 7], "little") + 1,
                    int.from_bytes(data[body + 7 : body + 10], "little") + 1)  # fmt: skip
        elif fourcc == b"ANMF" or (fourcc in (b"VP8 ", b"VP8L") and frames == 0):
            frames += 1
            if frames > limit:
                break
            if size is None and fourcc != b"ANMF":
                size = _vp8_size(data, body, fourcc)
        pos = body + length + (length & 1)
    return Structure(frames=max(frames, 1), size=size)


def _vp8_size(data: bytes, body: int, fourcc: bytes) -> tuple[int, int] | None:
    if fourcc == b"VP8L" and body + 5 <= len(data) and data[body] == 0x2F:
        bits = int.from_bytes(data[body + 1 : body + 5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if fourcc == b"VP8 " and body + 10 <= len(data) and data[body + 3 : body + 6] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", data, body + 6)
        return width & 0x3FFF, height & 0x3FFF
    return None
