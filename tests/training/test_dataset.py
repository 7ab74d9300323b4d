"""Data preparation pieces: folder and CSV intake, near-duplicate grouping, group-aware splits, calibration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from realeyes import samples
from realeyes.training.augment import jpeg_roundtrip
from realeyes.training.calibration import fit_platt
from realeyes.training.dataset import (
    FAKE,
    REAL,
    Sample,
    collect_folder,
    difference_hash,
    merge_near_duplicates,
    read_manifest,
    split_by_group,
)


def test_collect_folder_reads_classes_and_generators(tmp_path: Path) -> None:
    for relative in ("real/a.jpg", "ai/sdxl/b.png", "ai/c.png"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(b"x")
    found = {Path(s.path).name: (s.label, s.generator) for s in collect_folder(tmp_path)}
    assert found == {"a.jpg": (REAL, "real"), "b.png": (FAKE, "sdxl"), "c.png": (FAKE, "unknown")}


def test_manifest_rows_resolve_relative_paths_and_refuse_unknown_labels(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("path,label,generator,group\nx.jpg,ai,flux,p1\ny.jpg,real,,p1\n")
    rows = read_manifest(tmp_path / "m.csv")
    assert [(Path(r.path).name, r.label, r.generator, r.group) for r in rows] == [
        ("x.jpg", FAKE, "flux", "p1"),
        ("y.jpg", REAL, "real", "p1"),
    ]
    (tmp_path / "bad.csv").write_text("path,label\nx.jpg,maybe\n")
    with pytest.raises(ValueError, match="unknown label 'maybe'"):
        read_manifest(tmp_path / "bad.csv")


def test_near_duplicates_share_a_group_within_a_source_only() -> None:
    photo = samples.photo_like(300, 200, seed=4)
    variants = [photo, jpeg_roundtrip(photo, 60), samples.photo_like(300, 200, seed=5)]
    items = [
        Sample("a", REAL, "set1", "real", "a"),
        Sample("b", REAL, "set1", "real", "b"),
        Sample("c", REAL, "set1", "real", "c"),
    ]
    merged = merge_near_duplicates(items, [difference_hash(v) for v in variants])
    assert merged[0].group == merged[1].group != merged[2].group
    other_source = [items[0], Sample("b", REAL, "set2", "real", "b")]
    apart = merge_near_duplicates(other_source, [difference_hash(v) for v in variants[:2]])
    assert apart[0].group != apart[1].group


def test_split_keeps_groups_whole_and_is_stable() -> None:
    items = [Sample(f"{g}-{i}", i % 2, "s", "g" if i % 2 else "real", f"group{g}") for g in range(20) for i in range(4)]
    assignment = split_by_group(items, (0.6, 0.2, 0.2), seed=1)
    assert set(assignment) == {f"group{g}" for g in range(20)}
    assert sorted(list(assignment.values()).count(s) for s in ("train", "val", "test")) == [4, 4, 12]
    assert split_by_group(items, (0.6, 0.2, 0.2), seed=1) == assignment


def test_platt_scaling_recovers_a_known_calibration() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, 20_000)
    labels = (rng.random(20_000) < 1 / (1 + np.exp(-(0.5 * logits - 1.0)))).astype(int)
    scale, bias = fit_platt(labels, logits)
    assert scale == pytest.approx(0.5, abs=0.05) and bias == pytest.approx(-1.0, abs=0.1)


def test_fitted_fusion_coefficients_are_never_negative() -> None:
    from realeyes.training.fusion_fit import fit_logistic

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 2000).astype(float)
    useful = (labels * 2 - 1) * 1.5 + rng.normal(0, 1, 2000)
    backwards = -(labels * 2 - 1) + rng.normal(0, 1, 2000)  # anti-correlated with the label
    _, coefficients = fit_logistic(np.stack([useful, backwards], axis=1), labels)
    assert coefficients[0] > 0.5 and coefficients[1] == pytest.approx(0.0, abs=1e-6)
