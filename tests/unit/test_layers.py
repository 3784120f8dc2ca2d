"""The layout's promise: imports run one way, down the layers, and no blueprint imports another."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.code_layout import LAYER_OF, ROOT, application_modules, project_imports, unit_of


def test_every_application_module_has_a_layer() -> None:
    """A new root module or package must be placed in LAYERS (and so in docs/architecture.md)."""
    unplaced = {unit_of(name) for name in application_modules()} - set(LAYER_OF)
    assert unplaced == set()


def test_the_root_keeps_at_most_ten_python_files() -> None:
    """The root shows the architecture: the tutorial's five files and the entry points."""
    assert len(list(ROOT.glob("*.py"))) <= 10


@pytest.mark.parametrize("module", sorted(application_modules()))
def test_imports_only_go_down(module: str) -> None:
    """No module imports one of its own layer's other units or of a higher layer."""
    unit = unit_of(module)
    upward = {
        imported
        for imported in project_imports(application_modules()[module])
        if unit_of(imported) != unit and LAYER_OF[unit_of(imported)] >= LAYER_OF[unit]
    }
    assert upward == set()


@pytest.mark.parametrize(
    "module", sorted(m for m in application_modules() if m.startswith("routes."))
)
def test_no_blueprint_imports_another(module: str) -> None:
    """Each blueprint stands alone: what two share lives in a lower layer."""
    assert {
        name for name in project_imports(application_modules()[module]) if name.startswith("routes")
    } == set()


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """project_imports finds `from models import User` and a function-level import alike."""
    source = tmp_path / "probe.py"
    source.write_text("from models import User\n\ndef f():\n    from routes import books\n")
    assert project_imports(source) == {"models", "routes.books"}


@pytest.mark.parametrize("module", sorted(application_modules()))
def test_no_application_module_is_over_400_lines(module: str) -> None:
    """A module a newcomer reads in one go; past that, it holds more than one concern."""
    assert len(application_modules()[module].read_text().splitlines()) <= 400


def test_no_test_file_is_over_600_lines() -> None:
    """Tests split by subject stay findable: none over 600 lines."""
    long = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / "tests").rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > 600
    }
    assert long == {}


def test_no_application_function_is_over_40_lines() -> None:
    """A function reads at a glance: none is over 40 lines, its docstring included."""
    long = {
        f"{name}.{node.name}": node.end_lineno - node.lineno + 1
        for name, path in application_modules().items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > 40
    }
    assert long == {}
