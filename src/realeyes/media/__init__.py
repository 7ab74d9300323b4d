"""Media intake: sniff, validate, decode."""

from realeyes.media.decode import MediaSource, load_media
from realeyes.media.model import Media
from realeyes.media.sniff import Format, sniff_format

__all__ = ["Format", "Media", "MediaSource", "load_media", "sniff_format"]
