"""Media intake: formats sniffed from content, limits, and a defined outcome for every awkward input."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from realeyes import samples
from realeyes.config import Settings
from realeyes.errors import CorruptMedia, MediaTooLarge, UnsupportedMedia
from realeyes.media import load_media, sniff_format


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"), ("GIF", "gif"), ("BMP", "bmp"), ("TIFF", "tiff"),
     ("HEIF", "heif"), ("AVIF", "avif")],
)  # fmt: skip
def test_decodes_every_supported_image_format(photo: np.ndarray, fmt: str, expected: str) -> None:
    media = load_media(encode(Image.fromarray(photo), fmt))
    assert media.format.name == expected
    assert media.rgb is not None and media.rgb.shape == photo.shape and media.rgb.dtype == np.uint8
    lossless = expected in ("png", "bmp", "tiff")
    assert np.abs(media.rgb.astype(int) - photo).mean() < (0.01 if lossless else 40)


def test_format_comes_from_content_not_file_name(tmp_path: Path, photo: np.ndarray) -> None:
    misnamed = tmp_path / "holiday.jpg"
    misnamed.write_bytes(samples.png_bytes(photo))
    media = load_media(misnamed)
    assert media.format.name == "png"
    assert media.source == str(misnamed)


def test_text_named_like_an_image_is_unsupported(tmp_path: Path) -> None:
    fake = tmp_path / "photo.jpg"
    fake.write_text("this is not an image")
    with pytest.raises(UnsupportedMedia, match="content matches no known format"):
        load_media(fake)


def test_zero_byte_file_is_corrupt() -> None:
    with pytest.raises(CorruptMedia, match="empty"):
        load_media(b"")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file_is_corrupt(photo: np.ndarray, fmt: str) -> None:
    data = encode(Image.fromarray(photo), fmt)
    with pytest.raises(CorruptMedia, match="damaged or truncated"):
        load_media(data[: len(data) // 2])


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\0" * 2000)
    with pytest.raises(MediaTooLarge, match="REALEYES_MAX_BYTES"):
        load_media(big, Settings(max_bytes=1000))


def _png_claiming_size(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header is rewritten to claim a huge size: a decompression bomb's signature."""
    data = bytearray(samples.png_bytes(np.zeros((8, 8, 3), dtype=np.uint8)))
    ihdr = bytearray(data[12:29])
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def test_decompression_bomb_is_refused_from_the_header() -> None:
    with pytest.raises(MediaTooLarge, match="decompression bombs"):
        load_media(_png_claiming_size(12_000, 12_000))


def test_max_dimension_is_enforced(photo: np.ndarray) -> None:
    with pytest.raises(MediaTooLarge, match="largest side allowed is 600"):
        load_media(samples.png_bytes(photo), Settings(max_dimension=600))


def test_exif_orientation_is_applied() -> None:
    tall = np.zeros((40, 20, 3), dtype=np.uint8)
    tall[:10] = 255  # white band at the top of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    media = load_media(encode(Image.fromarray(tall), "JPEG", exif=exif.tobytes(), quality=95))
    assert media.rgb is not None and media.rgb.shape[:2] == (20, 40)
    assert media.rgb[:, -10:].mean() > 200 and media.rgb[:, :10].mean() < 50  # the top band is now on the right
    assert media.properties["orientation"] == 6


def test_animated_gif_uses_the_first_frame_and_says_so() -> None:
    frames = [Image.new("RGB", (32, 32), color) for color in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    media = load_media(data)
    assert media.properties["animated"] is True and media.properties["frame_count"] == 2
    assert media.rgb is not None and media.rgb[0, 0].tolist() == [255, 0, 0]
    assert any("first frame" in note for note in media.notes)


def test_cmyk_jpeg_is_converted_to_rgb() -> None:
    cmyk = Image.new("CMYK", (32, 32), (0, 255, 255, 0))  # pure red in CMYK
    media = load_media(encode(cmyk, "JPEG", quality=95))
    assert media.properties["mode"] == "CMYK"
    assert media.rgb is not None
    red, green, blue = media.rgb.reshape(-1, 3).mean(axis=0)
    assert red > 200 and green < 60 and blue < 60


def test_16_bit_png_keeps_its_full_range() -> None:
    ramp = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    media = load_media(encode(Image.fromarray(ramp), "PNG"))
    assert media.properties["bit_depth"] == 16
    assert media.rgb is not None
    assert media.rgb[0, 0, 0] == 0 and media.rgb[-1, -1, 0] == 255  # scaled, not clipped at 255


def test_palette_png_with_transparency_is_flattened_on_white() -> None:
    image = Image.new("P", (16, 16), 0)
    image.putpalette([0, 0, 0] + [255, 0, 0] * 255)
    image.paste(1, (0, 0, 8, 16))  # left half red, right half palette entry 0 (transparent)
    media = load_media(encode(image, "PNG", transparency=0))
    assert media.properties["has_alpha"] is True and media.properties["transparent_pixels"] == 128
    assert media.rgb is not None
    assert media.rgb[0, 0].tolist() == [255, 0, 0] and media.rgb[0, -1].tolist() == [255, 255, 255]


def test_rgba_alpha_is_flattened_and_reported() -> None:
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[..., 3] = 0  # fully transparent black
    media = load_media(encode(Image.fromarray(rgba), "PNG"))
    assert media.properties["has_alpha"] is True
    assert media.rgb is not None and int(media.rgb.min()) == 255


def test_polyglot_jpeg_with_appended_zip_is_decoded_and_flagged(photo: np.ndarray) -> None:
    payload = b"PK\x03\x04" + b"hidden archive" * 10
    media = load_media(samples.jpeg_bytes(photo) + payload)
    assert media.format.name == "jpeg" and media.rgb is not None
    assert media.properties["trailing_bytes"] == len(payload)
    assert any("polyglot" in note for note in media.notes)


@pytest.mark.parametrize(
    ("head", "kind", "name"),
    [(b"%PDF-1.7\n", "document", "pdf"), (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video", "mp4"),
     (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "video", "mov"), (b"\x1a\x45\xdf\xa3\x01", "video", "matroska"),
     (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "image", "svg")],
)  # fmt: skip
def test_containers_without_a_pixel_decoder_keep_their_bytes_for_provenance(head: bytes, kind: str, name: str) -> None:
    media = load_media(head + b"\0" * 64)
    assert (media.kind, media.format.name, media.has_pixels) == (kind, name, False)
    if kind == "video":  # the video analyzer decodes the frames itself: nothing to apologise for
        assert media.notes == []
    else:
        assert media.notes and "provenance" in media.notes[0]


def test_sniff_tells_heif_from_avif_by_brand() -> None:
    heif = sniff_format(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")
    avif = sniff_format(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf")
    assert heif is not None and heif.name == "heif"
    assert avif is not None and avif.name == "avif"


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia, match="Cannot read"):
        load_media(tmp_path / "nope.jpg")


def test_original_bytes_are_kept(photo: np.ndarray) -> None:
    data = samples.jpeg_bytes(photo, quality=75)
    media = load_media(data)
    assert media.data == data
    assert media.properties["jpeg_quality_estimate"] == 75
