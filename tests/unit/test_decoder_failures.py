"""Whatever a decoder raises on a damaged or hostile file becomes CorruptMedia, never a bare exception
(issue 11, finding 6)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from realeyes import samples
from realeyes.errors import CorruptMedia, MediaError
from realeyes.media import decode, load_media


def animated_gif(side: int = 8, frames: int = 3) -> bytes:
    images = [
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (side, side, 3)).astype(np.uint8))
        for i in range(frames)
    ]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def test_every_truncation_of_an_animated_gif_is_a_media_error() -> None:
    data = animated_gif()
    escaped = {}
    for cut in range(1, len(data)):
        try:
            load_media(data[:cut])
        except MediaError:
            continue
        except Exception as exc:  # struct.error, IndexError: what Pillow's GIF reader raises on some cuts
            escaped[cut] = f"{type(exc).__name__}: {exc}"
    assert not escaped, escaped


@pytest.mark.parametrize(
    "error",
    [struct.error("unpack requires a buffer of 4 bytes"), zlib.error("invalid stored block lengths"),
     IndexError("index out of range"), RecursionError("maximum recursion depth exceeded"), KeyError("x")],
)  # fmt: skip
def test_any_decoder_exception_becomes_corrupt_media(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def broken(_image: Image.Image) -> dict[str, object]:
        raise error

    monkeypatch.setattr(decode, "_read_exif", broken)
    with pytest.raises(CorruptMedia, match="damaged or truncated") as caught:
        load_media(samples.png_bytes(np.zeros((8, 8, 3), dtype=np.uint8)))
    assert caught.value.code == "corrupt_media"
    assert type(error).__name__ in str(caught.value)
