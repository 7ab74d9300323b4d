"""A mistyped REALEYES_* variable is reported with the closest known name, not silently ignored (issue 12)."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

import realeyes
from realeyes.application.settings import known_variables, unknown_variables
from realeyes.cli import main


def test_a_typo_is_named_with_the_closest_known_variable() -> None:
    warnings = unknown_variables({"REALEYES_DATABSE_URL": "sqlite://", "PATH": "/bin", "REALEYES_QUEUE": "redis"})
    assert warnings == [
        "REALEYES_DATABSE_URL is not a RealEyes setting and is ignored; did you mean REALEYES_DATABASE_URL?"
    ]


def test_settings_match_without_regard_to_case_and_far_names_get_no_guess() -> None:
    assert unknown_variables({"realeyes_max_bytes": "1"}) == []
    assert unknown_variables({"REALEYES_XYZZY_PLUGH": "1"}) == [
        "REALEYES_XYZZY_PLUGH is not a RealEyes setting and is ignored"
    ]


def test_every_variable_the_code_reads_is_known() -> None:
    """A new os.environ read must join OTHER_VARIABLES (or be a settings field), or it would be reported."""
    source = Path(realeyes.__file__).parent
    named = {m for path in source.rglob("*.py") for m in re.findall(r"\bREALEYES_[A-Z0-9_]+", path.read_text())}
    assert named and named <= known_variables()


def test_the_cli_warns_on_stderr_and_still_runs() -> None:
    result = CliRunner().invoke(main, ["analyzers", "--json"], env={"REALEYES_ANALYSERS": "ela"})
    assert result.exit_code == 0
    assert "REALEYES_ANALYSERS is not a RealEyes setting" in result.stderr
    assert "did you mean REALEYES_ANALYZERS?" in result.stderr
