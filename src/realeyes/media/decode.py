"""Load bytes or a path into a Media: enforce limits, sniff the format, decode pixels and metadata."""

from __future__ import annotations

import io
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from realeyes.config import Settings
from realeyes.errors import CorruptMedia, MediaTooLarge, RealEyesError, UnsupportedMedia
from realeyes.media.model import Media
from realeyes.media.precheck import check_decode_budget, check_frames, precheck
from realeyes.media.sniff import GIF, JPEG, PNG, Format, sniff_format

log = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

MediaSource = bytes | bytearray | memoryview | str | os.PathLike[str]
_SNIFF_BYTES = 512
_PIXELLESS_NOTES = {  # videos need none: the video analyzer decodes their frames itself
    "document": "Document container recognised; only provenance was checked.",
    "image": "No pixel decoder for this format; only provenance was checked.",
}


def load_media(source: MediaSource, settings: Settings | None = None) -> Media:
    """Read and validate media from bytes or a file path; raise a typed MediaError on anything unacceptable."""
    settings = settings or Settings()
    data, name = _read_bytes(source, settings.max_bytes)
    if not data:
        raise CorruptMedia("The file is empty (0 bytes).")
    fmt = sniff_format(data[:_SNIFF_BYTES])
    if fmt is None:
        raise UnsupportedMedia(
            "Not a supported media file: the content matches no known format. Supported images are JPEG, PNG, "
            "WebP, GIF, BMP, TIFF, HEIC/HEIF and AVIF (formats are recognised from content, not file names)."
        )
    if not fmt.decodable:
        note = _PIXELLESS_NOTES.get(fmt.kind)
        return Media(data=data, format=fmt, source=name, notes=[note] if note else [])
    return _decode_image(data, fmt, name, settings)


def _read_bytes(source: MediaSource, max_bytes: int) -> tuple[bytes, str | None]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = None
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise UnsupportedMedia(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        if not path.is_file():
            raise UnsupportedMedia(f"{path} is not a regular file.")
        _check_bytes(size, max_bytes)  # refuse before reading a huge file into memory
        data = path.read_bytes()
        name = str(path)
    _check_bytes(len(data), max_bytes)
    return data, name


def _check_bytes(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise MediaTooLarge(
            f"The file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB "
            "(set REALEYES_MAX_BYTES to change it)."
        )


def _decode_image(data: bytes, fmt: Format, name: str | None, settings: Settings) -> Media:
    try:
        with warnings.catch_warnings():
            # Our own pixel limit is checked before load(); Pillow's generic bomb warning adds nothing.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # The structure first (scans, frames, declared canvas), from the bytes alone: Pillow's n_frames walks
            # whole GIF/TIFF chains, and opening a WebP builds its frame list.
            structure = precheck(data, fmt, settings)
            if structure.size is not None:
                _check_dimensions(structure.size, settings)
                check_decode_budget(structure.size, structure.frames or 1, len(data), settings)
            image: Image.Image = Image.open(io.BytesIO(data))
            _check_dimensions(image.size, settings)
            frame_count = structure.frames if structure.frames is not None else int(getattr(image, "n_frames", 1))
            check_frames(frame_count, fmt, settings)
            check_decode_budget(image.size, frame_count, len(data), settings)
            image.load()
            # Metadata is read before the orientation fix, which returns a copy without format-specific fields.
            exif = _read_exif(image)
            quality = estimate_jpeg_quality(image)
            xmp = _read_xmp(image, data)
            text_chunks = _read_text_chunks(image)
            ImageOps.exif_transpose(image, in_place=True)  # in place: a 50 MP photo is not copied needlessly
            rgb, properties = _to_rgb(image)
    except RealEyesError:
        raise
    except Image.DecompressionBombError as exc:
        raise MediaTooLarge(f"Decompression bomb refused: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise CorruptMedia(f"The file starts like {fmt.name.upper()} but its structure cannot be parsed.") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise CorruptMedia(
            f"The {fmt.name.upper()} file is damaged or truncated and cannot be decoded ({exc})."
        ) from exc
    except MemoryError as exc:
        raise MediaTooLarge(f"The {fmt.name.upper()} file needs more memory to decode than is available.") from exc
    except Exception as exc:
        # Decoders raise whatever their parsing trips on (struct.error, IndexError, zlib.error, RecursionError...):
        # a hostile or damaged file is the file's problem, never a server error.
        log.info("decoder raised %s on a %s file", type(exc).__name__, fmt.name, exc_info=True)
        raise CorruptMedia(
            f"The {fmt.name.upper()} file is damaged or truncated and cannot be decoded "
            f"({type(exc).__name__}: {str(exc)[:200]})."
        ) from exc
    properties.update(
        frame_count=frame_count,
        animated=frame_count > 1,
        orientation=int(exif.get("Orientation", 1)) if str(exif.get("Orientation", 1)).isdigit() else 1,
        icc_profile="icc_profile" in image.info,
        trailing_bytes=_trailing_bytes(data, fmt),
    )
    if quality is not None:
        properties["jpeg_quality_estimate"] = quality
    notes = []
    if properties["trailing_bytes"]:
        notes.append(
            f"{properties['trailing_bytes']} bytes follow the end of the {fmt.name.upper()} data (an appended "
            "payload, as in polyglot files); they were not analysed as pixels."
        )
    if frame_count > 1:
        notes.append(f"Animated {fmt.name.upper()} with {frame_count} frames: the first frame was analysed.")
    return Media(
        data=data,
        format=fmt,
        rgb=rgb,
        source=name,
        properties=properties,
        exif=exif,
        xmp=xmp,
        text_chunks=text_chunks,
        notes=notes,
    )


def _check_dimensions(size: tuple[int, int], settings: Settings) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise CorruptMedia(f"The image declares an impossible size {width}x{height}.")
    if max(width, height) > settings.max_dimension:
        raise MediaTooLarge(
            f"The image is {width}x{height}; the largest side allowed is {settings.max_dimension} px "
            "(set REALEYES_MAX_DIMENSION to change it)."
        )
    if width * height > settings.max_pixels:
        raise MediaTooLarge(
            f"The image is {width}x{height} = {width * height / 1e6:.1f} MP; the limit is "
            f"{settings.max_pixels / 1e6:.1f} MP, a guard against decompression bombs "
            "(set REALEYES_MAX_PIXELS to change it)."
        )


def _to_rgb(image: Image.Image) -> tuple[np.ndarray, dict[str, Any]]:
    """Convert any Pillow mode to 8-bit RGB, keeping high bit depths' full range and flattening alpha on white."""
    mode = image.mode
    properties: dict[str, Any] = {"mode": mode, "bit_depth": _bit_depth(image), "has_alpha": False}
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if mode != "F" and array.max(initial=0) > 255 else max(float(array.max(initial=0)), 1.0)
        gray = np.clip(array / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2), properties
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = np.asarray(image.convert("RGBA"))
        alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
        properties["has_alpha"] = True
        properties["transparent_pixels"] = int((rgba[:, :, 3] < 255).sum())
        flattened = rgba[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return np.ascontiguousarray(flattened + 0.5, dtype=np.uint8), properties
    # Read-only on purpose: analyzers share these pixels and must not change them.
    return np.asarray(image if mode == "RGB" else image.convert("RGB")), properties


def _bit_depth(image: Image.Image) -> int:
    if image.mode in ("I;16", "I;16B", "I;16L"):
        return 16
    if image.mode in ("I", "F"):
        return 32
    if image.mode == "1":
        return 1
    return 8


def _read_exif(image: Image.Image) -> dict[str, Any]:
    """EXIF as {tag name: value}, including the Exif sub-IFD (camera settings, dates)."""
    raw = image.getexif()
    tags: dict[str, Any] = {}
    for ifd in (dict(raw), raw.get_ifd(ExifTags.IFD.Exif)):
        for tag_id, value in ifd.items():
            name = ExifTags.TAGS.get(tag_id, f"Tag{tag_id}")
            tags[name] = _user_comment(value) if name == "UserComment" else _plain(value)
    return tags


def _user_comment(value: Any) -> str:
    """EXIF UserComment: an 8-byte charset prefix then text (web UIs write generation parameters here)."""
    if not isinstance(value, bytes):
        return str(value)
    prefix, body = value[:8], value[8:]
    if prefix.startswith(b"UNICODE"):
        candidates = [body.decode(codec, errors="replace") for codec in ("utf-16-be", "utf-16-le")]
        return max(candidates, key=lambda text: sum(ch.isascii() and ch.isprintable() for ch in text)).rstrip("\x00")
    return body.decode("utf-8", errors="replace").rstrip("\x00").strip()


def _plain(value: Any) -> Any:
    """EXIF values as JSON-friendly types; undecodable bytes become a short hex preview."""
    if isinstance(value, bytes):
        text = value.rstrip(b"\x00")
        try:
            return text.decode("utf-8") if text.isascii() else text[:32].hex()
        except UnicodeDecodeError:
            return text[:32].hex()
    if isinstance(value, str):
        return value.rstrip("\x00").strip()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, int | float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _read_xmp(image: Image.Image, data: bytes) -> str | None:
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, bytes):
        return xmp.decode("utf-8", errors="replace")
    if isinstance(xmp, str):
        return xmp
    start = data.find(b"<x:xmpmeta")  # formats where Pillow does not expose XMP (e.g. some TIFF/HEIF)
    end = data.find(b"</x:xmpmeta>", start)
    if start >= 0 and end > start:
        return data[start : end + len(b"</x:xmpmeta>")].decode("utf-8", errors="replace")
    return None


def _read_text_chunks(image: Image.Image) -> dict[str, str]:
    """PNG tEXt/zTXt/iTXt chunks and other string fields Pillow exposes (where generators write prompts)."""
    chunks = getattr(image, "text", None) or {}
    found = {str(key): str(value) for key, value in chunks.items()}
    for key in ("comment", "Comment", "parameters", "Description"):
        value = image.info.get(key)
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if isinstance(value, str) and value and key not in found:
            found[key] = value
    return found


def _trailing_bytes(data: bytes, fmt: Format) -> int:
    """Bytes after the image's end marker: appended payloads make polyglot files (e.g. JPEG + ZIP)."""
    if fmt is PNG:
        end = data.rfind(b"IEND")
        return max(0, len(data) - (end + 8)) if end >= 0 else 0
    if fmt is JPEG:
        end = data.rfind(b"\xff\xd9")
        return max(0, len(data) - (end + 2)) if end >= 0 else 0
    if fmt is GIF:
        return 0 if data.endswith(b";") else _gif_trailing(data)
    return 0


def _gif_trailing(data: bytes) -> int:
    end = data.rfind(b"\x00;")
    return max(0, len(data) - (end + 2)) if end >= 0 else 0


def estimate_jpeg_quality(image: Image.Image) -> int | None:
    """Estimate the IJG quality (1-100) from the luminance quantization table, or None if not JPEG."""
    tables = getattr(image, "quantization", None)
    if not tables or 0 not in tables:
        return None
    luminance = np.asarray(tables[0], dtype=np.float64)
    if luminance.max() <= 1:
        return 100  # an all-ones table: quality 100, where the scale estimate saturates
    base = np.asarray(_IJG_LUMINANCE, dtype=np.float64)
    scale = float(luminance.sum() / base.sum()) * 100.0  # the IJG scale factor in percent (order-independent)
    quality = (200.0 - scale) / 2.0 if scale <= 100.0 else 5000.0 / scale
    return int(np.clip(round(quality), 1, 100))


# The standard (Annex K) luminance table; only its sum is used, so the coefficient order does not matter.
_IJG_LUMINANCE = [
    16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49, 35, 37, 29, 40, 58,
    51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81, 87, 95, 98, 103, 104, 103,
    62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
]  # fmt: skip
