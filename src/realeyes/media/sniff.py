"""Recognise a file's real format from its first bytes; the file name is never consulted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MediaKind = Literal["image", "video", "document"]


@dataclass(frozen=True)
class Format:
    """A recognised container: short name, MIME type, what kind of media it holds, and whether we decode pixels."""

    name: str
    mime: str
    kind: MediaKind
    decodable: bool = True


JPEG = Format("jpeg", "image/jpeg", "image")
PNG = Format("png", "image/png", "image")
GIF = Format("gif", "image/gif", "image")
WEBP = Format("webp", "image/webp", "image")
BMP = Format("bmp", "image/bmp", "image")
TIFF = Format("tiff", "image/tiff", "image")
HEIF = Format("heif", "image/heif", "image")
AVIF = Format("avif", "image/avif", "image")
JXL = Format("jxl", "image/jxl", "image", decodable=False)
SVG = Format("svg", "image/svg+xml", "image", decodable=False)
PDF = Format("pdf", "application/pdf", "document", decodable=False)
MP4 = Format("mp4", "video/mp4", "video", decodable=False)
MOV = Format("mov", "video/quicktime", "video", decodable=False)
MATROSKA = Format("matroska", "video/x-matroska", "video", decodable=False)
AVI = Format("avi", "video/x-msvideo", "video", decodable=False)

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}
_QUICKTIME_BRANDS = {b"qt  "}


def sniff_format(head: bytes) -> Format | None:
    """Return the format whose signature starts `head` (give at least 64 bytes), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return AVI
    if (
        head[:2] == b"BM"
        and len(head) >= 26
        and int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 64, 108, 124)
    ):
        return BMP
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    if head[:2] == b"\xff\x0a" or head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return JXL
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return MATROSKA
    if head[:5] == b"%PDF-":
        return PDF
    if head[4:8] == b"ftyp":
        return _sniff_iso_bmff(head)
    if _looks_like_svg(head):
        return SVG
    return None


def _sniff_iso_bmff(head: bytes) -> Format:
    """ISO base media files (HEIF, AVIF, MP4, MOV) share 'ftyp'; the brands tell them apart."""
    box_size = int.from_bytes(head[:4], "big")
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
    if head[8:12] in _AVIF_BRANDS or (brands & _AVIF_BRANDS and not brands & _HEIF_BRANDS - {b"mif1", b"msf1"}):
        return AVIF
    if brands & _HEIF_BRANDS:
        return HEIF
    if head[8:12] in _QUICKTIME_BRANDS:
        return MOV
    return MP4


def _looks_like_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text)
