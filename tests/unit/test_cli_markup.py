"""`realeyes scan`'s table shows file names and C2PA signer names as plain text: Rich markup in them is neither
rendered nor able to crash the table, and ANSI/control characters never reach the terminal (issue 11, finding 11)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from realeyes import samples
from realeyes.cli import main

ESC = "\x1b"


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    photo = samples.photo_like(160, 120, seed=7)
    signer = samples.make_signing_identity(f"[/bold]Evil {ESC}[31mCorp[link=https://evil.example]")
    signed = samples.sign_c2pa(samples.jpeg_bytes(photo), "image/jpeg", signer, "trainedAlgorithmicMedia")
    (root / "signed.jpg").write_bytes(signed)
    (root / "dir[").mkdir()
    (root / "dir[" / "bold]closing.png").write_bytes(samples.png_bytes(photo))  # path '…/dir[/bold]…'
    (root / "[blink]styled.png").write_bytes(samples.png_bytes(photo, {"a": "1"}))
    (root / f"{ESC}[2J{ESC}]0;owned{chr(7)}ansi.png").write_bytes(samples.png_bytes(photo, {"b": "2"}))
    (root / "broken[red].jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    return root


def scan_table(folder: Path) -> tuple[int, str, str, BaseException | None]:
    runner = CliRunner()
    result = runner.invoke(
        main, ["scan", str(folder), "--workers", "1", "--analyzers", "c2pa,metadata"], env={"COLUMNS": "400"}
    )
    return result.exit_code, result.stdout, result.stderr, result.exception


def test_markup_in_paths_and_signer_names_is_shown_literally(hostile_folder: Path) -> None:
    code, out, err, exception = scan_table(hostile_folder)
    assert exception is None or isinstance(exception, SystemExit), exception
    assert code == 3, err  # one file failed; the table of all the others is still printed
    assert "dir[/bold]closing.png" in out
    assert "[blink]styled.png" in out
    assert "broken[red].jpg" in out
    assert "signed by [/bold]Evil Corp[link=https://evil.example]" in out


def test_ansi_and_control_characters_never_reach_the_terminal(hostile_folder: Path) -> None:
    _code, out, err, _exception = scan_table(hostile_folder)
    assert ESC not in out and ESC not in err and chr(7) not in out
    assert "ansi.png" in out


def test_terminal_safe_text() -> None:
    from realeyes.cli import markup_safe
    from realeyes.report import terminal_safe

    assert terminal_safe(f"{ESC}[31mred{ESC}[0m") == "red"
    assert terminal_safe(f"{ESC}]8;;https://x{ESC}\\link{ESC}]8;;{ESC}\\") == "link"  # OSC 8 hyperlink
    assert terminal_safe("a\u202egnp.exe") == "a?gnp.exe"  # a right-to-left override
    assert terminal_safe("bell\x07 and \udcff undecodable") == "bell? and ? undecodable"
    assert terminal_safe("two\nlines") == "two lines"
    assert terminal_safe("café 👩\u200d💻") == "café 👩\u200d💻"
    assert markup_safe("[/bold]x[red]") == "\\[/bold]x\\[red]"
