"""Small media the service tests build for themselves."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from realeyes import samples


def jpeg_bytes(seed: int = 1, width: int = 320, height: int = 240, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(samples.photo_like(width, height, seed=seed)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def png_bomb(width: int = 12_000, height: int = 12_000) -> bytes:
    """A tiny valid PNG whose header claims a huge size: refused from the header, never decoded."""
    data = bytearray(samples.png_bytes(np.zeros((8, 8, 3), dtype=np.uint8)))
    ihdr = bytearray(data[12:29])
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def zip_of(members: dict[str, bytes]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
