"""Command line for the face-forgery model: prepare crops, train, export (calibrate + evaluate + bundle), evaluate.

Attach with `COMMANDS` to the main CLI (`realeyes faces ...`). Torch loads lazily, inside the commands.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from realeyes.config import DEFAULT_MODELS_DIR
from realeyes.training.cli import (
    DEFAULT_SHARED,
    budget_options,
    bundle_options,
    finish_training,
    require_training_extra,
    resume_option,
)

_workdir = click.option(
    "--workdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Face-forgery run folder."
)


@click.group("faces")
def faces() -> None:
    """The face-forgery model's pipeline: prepare, train, export (evaluation included), evaluate."""
    logging.getLogger("realeyes").setLevel(logging.INFO)


@faces.command("prepare")
@_workdir
@click.option("--shared", type=click.Path(path_type=Path), default=DEFAULT_SHARED, show_default=True)
@click.option("--no-shared", is_flag=True, help="Do not use ../shared/data.")
@click.option(
    "--folder",
    "folders",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Extra data: real/<person>/* (split by person) and fake/<kind>/* (test only); images or videos.",
)
@click.option("--frames-per-video", type=int, default=40, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def prepare_command(
    workdir: Path, shared: Path, no_shared: bool, folders: tuple[Path, ...], frames_per_video: int, seed: int
) -> None:
    """Detect and crop faces, split by person, write WORKDIR/manifest.csv and WORKDIR/summary.json."""
    from realeyes.training.faces.prepare import FacePrepareConfig, prepare_faces
    from realeyes.training.faces.sources import folder_inputs, shared_face_inputs

    inputs = [] if no_shared else shared_face_inputs(shared)
    for folder in folders:
        inputs += folder_inputs(folder, seed)
    if not inputs:
        raise click.UsageError("No data: give --folder or make ../shared/data available.")
    click.echo(prepare_faces(inputs, workdir, FacePrepareConfig(frames_per_video=frames_per_video)))
    click.echo((workdir / "summary.json").read_text())


@faces.command("train")
@_workdir
@budget_options(minutes=25.0, batch_size=32, eval_every=100)
@click.option("--seed", type=int, default=0, show_default=True)
@resume_option
def train_command(
    workdir: Path, minutes: float, max_steps: int, batch_size: int, eval_every: int, seed: int, resume: bool
) -> None:
    """Train on WORKDIR/manifest.csv (real crops + self-blends); writes WORKDIR/faces.pt and its learning curve."""
    require_training_extra()
    from realeyes.training import tracking
    from realeyes.training.faces.train import FaceTrainConfig, train

    config = FaceTrainConfig(
        minutes=minutes, max_steps=max_steps, batch_size=batch_size, eval_every=eval_every, seed=seed
    )
    history = train(workdir / "manifest.csv", workdir / "faces.pt", config, resume)
    finish_training(workdir, tracking.FACE_FORGERY_EXPERIMENT, config, history)


@faces.command("export")
@_workdir
@bundle_options("face-forgery")
@click.option("--promote", is_flag=True, help="Promote the bundle in its models folder's registry.json.")
@click.option("--note", default="", help="Why it is promoted (kept in registry.json).")
@click.option("--card-note", "card_notes", multiple=True, help="Development history to show on the card.")
@click.option(
    "--shared",
    type=click.Path(path_type=Path),
    default=DEFAULT_SHARED,
    show_default=True,
    help="Where the labelled clips are (clip-level figures and the fusion weight).",
)
def export_command(
    workdir: Path,
    version: str,
    out: Path | None,
    promote: bool,
    note: str,
    card_notes: tuple[str, ...],
    shared: Path,
) -> None:
    """Export WORKDIR/faces.pt to an ONNX bundle, calibrate on validation, evaluate on held-out crops and clips."""
    require_training_extra()
    from realeyes.models import Registry
    from realeyes.training import tracking
    from realeyes.training.faces.build import NAME, build_face_bundle

    folder = out or DEFAULT_MODELS_DIR / "face-forgery" / f"{NAME}-{version}"
    click.echo(build_face_bundle(workdir / "faces.pt", workdir / "manifest.csv", folder, version, card_notes, shared))
    tracking.track_bundle(workdir, tracking.FACE_FORGERY_EXPERIMENT, folder)
    if promote:
        bundle = Registry(folder.resolve().parents[1]).promote(folder, note)
        click.echo(f"promoted {bundle.name} {bundle.version} for {bundle.task}")
        click.echo(tracking.mirror_promotion(folder, note))


@faces.command("evaluate")
@_workdir
@click.option(
    "--bundle", type=click.Path(file_okay=False, exists=True, path_type=Path), help="Default: the promoted one."
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Report folder.")
def evaluate_command(workdir: Path, bundle: Path | None, out: Path) -> None:
    """Evaluate a face-forgery bundle on WORKDIR's held-out crops (validation, test and extra splits)."""
    from realeyes.config import Settings
    from realeyes.models import load_bundle
    from realeyes.models.face_forgery import FaceForgeryModel
    from realeyes.training import tracking
    from realeyes.training.faces.evaluate import evaluate_faces, write_reports

    model = FaceForgeryModel(Settings(), bundle=load_bundle(bundle) if bundle else None)
    reports = write_reports(evaluate_faces(model, workdir / "manifest.csv"), out)
    params = {"data": f"held-out crops of {workdir / 'manifest.csv'}", "bundle": model.bundle.path}
    tracking.track_evaluation(out, tracking.EVALUATION_EXPERIMENT, params, reports)
    click.echo(
        json.dumps(
            {name: report.get("auc", report.get("as_served", {}).get("auc")) for name, report in reports.items()}
        )
    )


@faces.command("evaluate-clips")
@click.option(
    "--bundle", type=click.Path(file_okay=False, exists=True, path_type=Path), help="Default: the promoted one."
)
@click.option("--shared", type=click.Path(path_type=Path), default=DEFAULT_SHARED, show_default=True)
def evaluate_clips_command(bundle: Path | None, shared: Path) -> None:
    """Score the labelled clips under SHARED/video through the video analyzer with a face-forgery bundle."""
    from realeyes.config import Settings
    from realeyes.models import load_bundle
    from realeyes.models.face_forgery import FaceForgeryModel
    from realeyes.training.faces.clips import evaluate_clips, labelled_clips

    if not labelled_clips(shared):
        raise click.UsageError(f"No labelled clips under {shared / 'video'}.")
    model = FaceForgeryModel(Settings(), bundle=load_bundle(bundle) if bundle else None)
    click.echo(json.dumps(evaluate_clips(model, shared), indent=2))


COMMANDS = [faces]
