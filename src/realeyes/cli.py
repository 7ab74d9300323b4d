"""Command line: `realeyes scan` and `realeyes analyzers`. Only calls the Engine; no detection logic here."""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from realeyes import __version__
from realeyes.analyzers import create, describe_analyzers
from realeyes.application.settings import unknown_variables
from realeyes.config import Settings
from realeyes.errors import RealEyesError
from realeyes.report import CSV_COLUMNS, csv_row, terminal_safe
from realeyes.scan import ScanOptions, default_workers, expand_paths, scan_files

EXIT_OK = 0
EXIT_USAGE = 2  # click's own code for bad arguments
EXIT_FILE_FAILED = 3  # at least one file could not be analysed (each has its own error record)

_LABEL_STYLES = {"ai-generated": "bold red", "manipulated": "bold yellow", "authentic": "bold green"}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="realeyes")
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug) to stderr.")
def main(verbose: int) -> None:
    """RealEyes: is this image authentic, AI-generated or manipulated — and where and why."""
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)], stream=sys.stderr)
    for warning in unknown_variables(os.environ):
        click.echo(f"warning: {terminal_safe(warning)}", err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "output", flag_value="json", help="One JSON array of records.")
@click.option("--jsonl", "output", flag_value="jsonl", help="One JSON record per line, streamed.")
@click.option("--csv", "output", flag_value="csv", help="CSV with one row per file.")
@click.option(
    "--save-maps",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write maps as DIR/<stem>.<map>.png.",
)
@click.option("--analyzers", "analyzer_names", help="Comma-separated analyzers to run (default: all).")
@click.option("-j", "--workers", type=click.IntRange(min=1), help="Processes to use (default: one per CPU core).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when a terminal).")
def scan(
    paths: tuple[str, ...],
    output: str | None,
    save_maps: Path | None,
    analyzer_names: str | None,
    workers: int | None,
    progress: bool | None,
) -> None:
    """Analyse files, directories (recursively) and glob patterns."""
    err = Console(stderr=True)
    try:
        settings = Settings()
    except ValidationError as exc:
        raise click.UsageError(f"Invalid REALEYES_* setting: {exc}") from exc
    names = [name.strip() for name in analyzer_names.split(",") if name.strip()] if analyzer_names else None
    _check_analyzers(names)
    expansion = expand_paths(paths)
    for missing in expansion.missing:
        err.print(f"[red]error[/red]: {markup_safe(missing)}: no such file, directory or matching pattern")
    if expansion.skipped:
        example = markup_safe(expansion.skipped[0])
        err.print(f"skipped {len(expansion.skipped)} file(s) that are not media (e.g. {example})")
    if not expansion.files:
        raise click.UsageError("Nothing to scan.")
    options = ScanOptions(settings=settings, analyzers=names, maps_dir=save_maps)
    records = scan_files(expansion.files, options, min(workers or default_workers(), len(expansion.files)))
    show_progress = err.is_terminal and len(expansion.files) > 1 if progress is None else progress
    failed = _emit(_with_progress(records, len(expansion.files), err, show_progress), output)
    sys.exit(EXIT_FILE_FAILED if failed or expansion.missing else EXIT_OK)


def _check_analyzers(names: list[str] | None) -> None:
    """Build each requested analyzer once up front: an unknown name or a missing model is a usage error."""
    for name in names or []:
        try:
            create(name)
        except RealEyesError as exc:
            raise click.UsageError(str(exc)) from exc


def _with_progress(records: Any, total: int, console: Console, enabled: bool) -> Any:
    if not enabled:
        yield from records
        return
    columns = (TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("scan", total=total)
        for record in records:
            bar.advance(task)
            yield record


def _emit(records: Any, output: str | None) -> int:
    """Write records in the chosen format; return how many failed."""
    failed = 0
    collected = []
    writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS) if output == "csv" else None
    if writer:
        writer.writeheader()
    for record in records:
        failed += record["error"] is not None
        if output == "jsonl":
            sys.stdout.write(json.dumps(record) + "\n")
            sys.stdout.flush()
        elif writer:
            writer.writerow(csv_row(record))
        else:
            collected.append(record)
        if record["error"] and output in ("jsonl", "csv", "json"):
            click.echo(f"error: {terminal_safe(record['path'])}: {terminal_safe(record['error']['message'])}", err=True)
    if output == "json":
        json.dump(collected, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif output is None:
        _print_table(collected)
    return failed


def _print_table(records: list[dict[str, Any]]) -> None:
    table = Table(show_lines=False)
    for column in ("file", "verdict", "p_fake", "why"):
        table.add_column(column, overflow="fold")
    for record in records:
        # Paths, messages and reasons (which quote C2PA signer names) come from files: never markup, never escapes.
        path = markup_safe(record["path"])
        if record["error"]:
            table.add_row(path, "[red]error[/red]", "", markup_safe(record["error"]["message"]))
            continue
        label = record["label"]
        styled = f"[{_LABEL_STYLES[label]}]{label}[/]" if label in _LABEL_STYLES else markup_safe(label)
        # For an inconclusive verdict the first reason only says so; the second says what was seen.
        why = " ".join(record["reasons"][: 2 if label == "inconclusive" else 1])
        table.add_row(path, styled, f"{record['p_fake']:.2f}", markup_safe(why))
    Console().print(table)


def markup_safe(value: object) -> str:
    """terminal_safe text with Rich markup escaped, for strings that Rich would otherwise parse ('[/bold]')."""
    return escape(terminal_safe(value))


@main.command("analyzers")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_analyzers_command(as_json: bool) -> None:
    """List the registered analyzers with their versions."""
    rows = describe_analyzers()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table()
    for column in ("name", "version", "media", "what it checks"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["version"], row["media"], row["summary"])
    Console().print(table)


def _add_pipeline_commands() -> None:
    """The model pipelines' commands; their heavy imports (torch) happen only when one is run."""
    from realeyes.training.cli import pipeline_commands

    for command in pipeline_commands():
        main.add_command(command)


_add_pipeline_commands()


def _add_service_commands() -> None:
    """serve, worker, keys, db, drift and retrain; their heavy imports happen only when one of them runs."""
    from realeyes.mlops.cli import COMMANDS as MLOPS_COMMANDS
    from realeyes.service.cli import COMMANDS as SERVICE_COMMANDS

    for command in SERVICE_COMMANDS + MLOPS_COMMANDS:
        main.add_command(command)


_add_service_commands()
