"""dvc.yaml against the code it drives: every stage's command names real commands and options, and every file it
depends on exists. A full `dvc repro` trains for hours; this catches a renamed option or a moved module in
seconds."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from realeyes.cli import main

ROOT = Path(__file__).resolve().parents[2]
STAGES: dict[str, Any] = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
PARAMS: dict[str, Any] = yaml.safe_load((ROOT / "params.yaml").read_text())


def interpolated(text: str) -> str:
    """DVC's ${a.b} templating, from params.yaml."""

    def value(match: re.Match[str]) -> str:
        node: Any = PARAMS
        for key in match.group(1).split("."):
            node = node[key]
        return str(node)

    return re.sub(r"\$\{([\w.]+)\}", value, text)


def commands(stage: dict[str, Any]) -> list[list[str]]:
    """Each `realeyes ...` command of a stage's cmd (several joined by &&), as arguments after `realeyes`."""
    words = shlex.split(interpolated(stage["cmd"]))
    joined: list[list[str]] = [[]]
    for word in words:
        if word == "&&":
            joined.append([])
        else:
            joined[-1].append(word)
    assert all(command[0] == "realeyes" for command in joined)
    return [command[1:] for command in joined]


def resolve(arguments: list[str]) -> tuple[click.Command, list[str]]:
    """The click command the arguments name (through nested groups) and the arguments left for it."""
    command: click.Command = main
    while isinstance(command, click.Group) and arguments and not arguments[0].startswith("-"):
        found = command.get_command(click.Context(command), arguments[0])
        assert found is not None, f"realeyes has no command {arguments[0]!r} under {command.name!r}"
        command, arguments = found, arguments[1:]
    return command, arguments


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_stage_command_and_option_exists(name: str) -> None:
    for arguments in commands(STAGES[name]):
        command, rest = resolve(arguments)
        known = {opt for param in command.params for opt in param.opts + param.secondary_opts}
        given = {word.split("=", 1)[0] for word in rest if word.startswith("--")}
        assert given <= known, f"{name}: {command.name} has no {sorted(given - known)}"


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_source_dependency_exists(name: str) -> None:
    sources = [interpolated(dep) for dep in STAGES[name].get("deps", []) if dep.startswith("src/")]
    assert [dep for dep in sources if not (ROOT / dep).exists()] == []
