"""The metadata analyzer on hostile text chunks: nesting that would exhaust the recursion limit is refused before
parsing, and what goes back in the details is bounded (issue 11, finding 15)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from realeyes import samples
from realeyes.analyzers import create
from realeyes.analyzers import metadata as metadata_module
from realeyes.media import Media, load_media
from realeyes.media.sniff import PNG

DEEP = 50_000  # far past Python's recursion limit (1,000)


def deeply_nested(depth: int = DEEP) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("key", ["prompt", "workflow", "comment"])
def test_deeply_nested_json_in_a_png_chunk_is_no_recursion_error(key: str) -> None:
    photo = samples.photo_like(64, 48, seed=3)
    media = load_media(samples.png_bytes(photo, {key: deeply_nested()}))
    assert media.text_chunks[key].startswith('{"a":{"a":')
    evidence = create("metadata").analyze(media)  # raised RecursionError before
    assert evidence.details["generator_markers"] == []
    assert evidence.details["text_chunks"] == [key]


def test_json_within_the_depth_limit_is_still_recognised() -> None:
    nested = '{"a":' * 40 + "1" + "}" * 40
    photo = samples.photo_like(64, 48, seed=3)
    evidence = create("metadata").analyze(load_media(samples.png_bytes(photo, {"prompt": nested})))
    assert [marker["generator"] for marker in evidence.details["generator_markers"]] == ["ComfyUI"]
    # Brackets inside strings do not count as nesting.
    assert metadata_module._json_object(json.dumps({"text": "[" * 10_000})) == {"text": "[" * 10_000}
    assert metadata_module._json_object("[" * DEEP) is None


def test_the_depth_check_is_linear() -> None:
    hostile = '"' + "\\" * 999_999 + "[" * 1_000_000  # escapes, an unterminated string, a million brackets
    started = time.perf_counter()
    assert metadata_module._json_object("{" + hostile) is None
    assert time.perf_counter() - started < 5.0


def media_with_chunks(chunks: dict[str, str]) -> Media:
    return Media(data=b"", format=PNG, rgb=np.zeros((8, 8, 3), dtype=np.uint8), text_chunks=chunks)


def test_the_listed_chunk_names_are_bounded_and_say_so() -> None:
    chunks = {f"k{i:05d}" + "x" * 74: "midjourney" for i in range(5_000)}
    chunks["y" * 100_000] = "a name far longer than a PNG keyword"
    details = create("metadata").analyze(media_with_chunks(chunks)).details
    names = details["text_chunks"]
    assert details["text_chunks_truncated"] is True and details["text_chunk_count"] == 5_001
    assert 0 < len(names) <= metadata_module.MAX_LISTED_CHUNKS
    assert all(len(name) <= metadata_module.MAX_CHUNK_NAME for name in names)
    assert sum(len(name) for name in names) <= metadata_module.MAX_LISTED_CHARS
    assert len(details["generator_markers"]) <= metadata_module.MAX_MARKERS
    assert details["generator_markers_truncated"] is True
    assert all(len(marker["field"]) < 120 for marker in details["generator_markers"])
    assert len(json.dumps(details)) < 20_000  # was megabytes


def test_one_long_name_is_cut_and_flagged() -> None:
    details = create("metadata").analyze(media_with_chunks({"z" * 500: "v", "short": "v"})).details
    assert details["text_chunks"] == ["short", "z" * (metadata_module.MAX_CHUNK_NAME - 1) + "…"]
    assert details["text_chunks_truncated"] is True and details["text_chunk_count"] == 2


def test_ordinary_chunks_are_listed_whole() -> None:
    details = create("metadata").analyze(media_with_chunks({"b": "1", "a": "2"})).details
    assert details["text_chunks"] == ["a", "b"]
    assert details["text_chunks_truncated"] is False and details["generator_markers_truncated"] is False
