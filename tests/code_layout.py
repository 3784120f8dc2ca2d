"""The application's modules, their layers and what each imports: read from the code itself."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Bottom to top. A module may import from its own package or from a lower layer, never higher.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("request_schema", "concurrency"),
    ("config", "validate", "save_image"),
    ("store", "crypto"),
    ("web",),
    ("models",),
    ("auth",),
    ("auth_middleware",),
    ("api_docs",),
    ("routes",),
    ("app",),
    ("wsgi", "gunicorn.conf"),
)
LAYER_OF = {unit: depth for depth, units in enumerate(LAYERS) for unit in units}
PACKAGES = {unit for unit in LAYER_OF if (ROOT / unit / "__init__.py").exists()}


def application_modules() -> dict[str, Path]:
    """Every application module by dotted name: the root's files and the packages' modules."""
    modules = {path.stem: path for path in ROOT.glob("*.py")}
    for package in PACKAGES:
        for path in (ROOT / package).glob("*.py"):
            if path.name != "__init__.py":
                modules[f"{package}.{path.stem}"] = path
    return modules


def unit_of(module: str) -> str:
    """The layer unit a dotted module name belongs to: its package, or itself at the root."""
    head = module.split(".")[0]
    return head if head in PACKAGES else module


def project_imports(path: Path) -> set[str]:
    """The application modules a file imports, anywhere in it (function-level imports too)."""
    known = set(application_modules()) | PACKAGES
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found.update(name for name in names if name in known)
            if node.module in known and not any(name in known for name in names):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
    return found
