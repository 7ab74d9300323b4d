"""The RealEyes exception family. Each error carries a stable machine `code`; front doors map them in one place."""

from __future__ import annotations


class RealEyesError(Exception):
    """Base class: `code` is stable for machines, the message is written for people."""

    code = "realeyes_error"


class MediaError(RealEyesError):
    """The input could not be accepted as media."""

    code = "media_error"


class UnsupportedMedia(MediaError):
    """The bytes are not a format RealEyes reads (sniffed from content, never from the file name)."""

    code = "unsupported_media"


class MediaTooLarge(MediaError):
    """The input exceeds a configured size limit (bytes, pixels or dimension)."""

    code = "media_too_large"


class VideoTooLong(MediaTooLarge):
    """A video longer than the limit its caller asked for (POST /predict's), or whose duration cannot be read to
    check it; checked from the container (or its packets' timestamps) before any frame is decoded."""

    code = "video_too_long"


class CorruptMedia(MediaError):
    """The format was recognised but the content cannot be decoded (truncated, damaged or hostile)."""

    code = "corrupt_media"


class UnknownAnalyzer(RealEyesError, ValueError):
    """An analyzer name that is not registered."""

    code = "unknown_analyzer"


class ModelUnavailable(RealEyesError):
    """An analyzer's model files are missing or cannot be loaded."""

    code = "model_unavailable"


class AnalysisTimeout(MediaError):
    """The file's analysis overran the service's wall-clock budget and was stopped (a CPU bomb, or a file too
    demanding for this server); the worker that ran it was replaced."""

    code = "analysis_timeout"


class AnalysisCrashed(MediaError):
    """The process analysing the file died (killed, out of memory, a decoder crash); the file was not analysed."""

    code = "analysis_crashed"


class PoolClosed(RuntimeError):
    """The analysis pool was closed (the service is stopping) before or while the file was analysed: not the
    file's fault, so a job that meets it goes back to the queue."""


class InsufficientStorage(RealEyesError):
    """The server's disk is full (ENOSPC, or a quota): nothing was stored; the same request may succeed later."""

    code = "insufficient_storage"
