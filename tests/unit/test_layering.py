"""The import layering of `realeyes` (issue 12): the core never imports a front door, front doors never import
each other, and no two top-level packages import each other, even through imports inside functions.
LAYERS lists them top to bottom: a top-level package or module may import only from layers strictly below its own
(docs/ARCHITECTURE.md says where new code goes).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import realeyes

PACKAGE = Path(realeyes.__file__).parent
LAYERS = [
    {"__main__"},
    {"cli"},
    {"service", "mlops"},  # front doors: the HTTP API and the model-operations commands
    {"jobs", "training"},  # queue workers; training pipelines
    {"application"},  # analyse and store, files, uploads, isolation, deployment settings, metrics, logs
    {"__init__", "scan", "store"},  # the package's lazy facade; batch scanning; persistence
    {"engine", "report", "pictures"},  # the core, from here down
    {"fusion", "verdict", "video"},
    {"analyzers"},
    {"media", "models"},
    {"config", "errors", "imaging", "labels", "progress", "samples"},
]
FRONT_DOORS = {"service", "jobs", "store", "cli", "mlops", "training", "application", "scan"}
HEAVY_RUNTIMES = ("cv2", "onnxruntime", "av", "c2pa", "torch", "fastapi")


def _top_level(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "realeyes":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    """realeyes.a.b for a/b.py and a/b/__init__.py (relative imports in both resolve against realeyes.a.b)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(("realeyes", *parts[: -1 if parts[-1] == "__init__" else None], "_"))


def _imports(path: Path, name: str) -> set[str]:
    """Every module (or name in one) that the file imports, at the top or inside functions, as absolute dotted
    names; NAME places the file for relative imports (its last part stands for the file itself)."""
    package = name
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: -node.level] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _package_graph() -> dict[str, dict[str, set[str]]]:
    """Top-level package -> the top-level packages it imports -> the files that do."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        source = relative.parts[0].removesuffix(".py")
        for module in _imports(path, _module_name(path)):
            target = _top_level(module)
            if target is not None and target != source and _exists(target):
                graph[source][target].add(str(relative))
    return graph


def _exists(name: str) -> bool:
    # `from realeyes import __version__` reads a constant of the root package (which importing any submodule
    # runs anyway), not its lazy Engine/Verdict facade: it is no edge. `import realeyes` is one, to "__init__".
    return name == "__init__" or (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()


def _layer_of(name: str) -> int:
    for index, layer in enumerate(LAYERS):
        if name in layer:
            return index
    raise AssertionError(f"realeyes.{name} is in no layer of {__file__}: add it where it belongs")


def test_every_top_level_package_has_a_layer() -> None:
    names = {path.name.removesuffix(".py") for path in PACKAGE.iterdir() if path.suffix == ".py" or path.is_dir()}
    names -= {"__pycache__"}
    for name in names:
        if (PACKAGE / name).is_dir() and not (PACKAGE / name / "__init__.py").is_file():
            continue  # data folders (static files, migrations' scripts live inside packages)
        _layer_of(name)


def test_packages_import_only_from_lower_layers() -> None:
    wrong = [
        f"{source} -> {target} ({', '.join(sorted(files))})"
        for source, targets in _package_graph().items()
        for target, files in targets.items()
        if _layer_of(target) <= _layer_of(source)
    ]
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_the_core_imports_no_front_door() -> None:
    core = set().union(*LAYERS[LAYERS.index({"engine", "report", "pictures"}) :])
    assert not core & FRONT_DOORS
    graph = _package_graph()
    assert not [(source, target) for source in core for target in graph.get(source, {}) if target in FRONT_DOORS]


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The graph must not miss the lazy imports that hid the old cycles (jobs <-> service, mlops <-> service)."""
    module = tmp_path / "sample.py"
    lines = ["def f():", "    from realeyes.service import app", "    import realeyes.jobs.runner"]
    module.write_text("\n".join([*lines, "from .settings import ServiceSettings", "from .. import errors", ""]))
    found = _imports(module, "realeyes.application.sample")
    assert found >= {"realeyes.service.app", "realeyes.jobs.runner", "realeyes.errors"}
    assert "realeyes.application.settings.ServiceSettings" in found


@pytest.mark.parametrize("module", ["realeyes.config", "realeyes.store", "realeyes.application.settings"])
def test_importing_settings_or_the_store_loads_no_model_or_media_runtime(module: str) -> None:
    code = f"import sys, {module}; print(' '.join(m for m in {HEAVY_RUNTIMES!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_no_source_file_is_over_400_lines() -> None:
    """Small modules with one job (issue 12): a file past this has grown a second one; split it."""
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 400
    }
    assert not long
