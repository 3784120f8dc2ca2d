"""The lock files install exactly what requirements*.txt name, every package pinned with hashes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*(\\)?$")


def normalise(name: str) -> str:
    """A package name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def chosen(path: Path) -> dict[str, str]:
    """The `name==version` lines of a requirements file, following `-r` includes."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins.update(chosen(path.parent / line[3:].strip()))
        elif line:
            match = PIN.match(line)
            assert match, f"{path.name}: {line!r} is not pinned with =="
            pins[normalise(match[1])] = match[2]
    return pins


def locked(path: Path) -> dict[str, str]:
    """The pins of a lock file, each checked to carry at least one sha256 hash."""
    pins: dict[str, str] = {}
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        match = PIN.match(line)
        if not match:
            continue
        following = lines[number + 1] if number + 1 < len(lines) else ""
        assert "--hash=sha256:" in following, f"{path.name}: {match[1]} has no hash"
        pins[normalise(match[1])] = match[2]
    return pins


@pytest.mark.parametrize(
    ("chosen_file", "lock_file"),
    [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")],
)
def test_lock_holds_every_chosen_pin(chosen_file: str, lock_file: str) -> None:
    """Each dependency we chose is in its lock at the same version (run `make lock` if not)."""
    wanted = chosen(ROOT / chosen_file)
    have = locked(ROOT / lock_file)
    differing = {name: (v, have.get(name)) for name, v in wanted.items() if have.get(name) != v}
    assert differing == {}, f"{lock_file} is stale; run `make lock`: {differing}"


def test_dev_lock_installs_the_runtime_lock() -> None:
    """Tests run on the very versions production installs, transitive ones included."""
    runtime = locked(ROOT / "requirements.lock")
    dev = locked(ROOT / "requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_installs_use_the_locks_with_hashes() -> None:
    """make and the container image install from the locks in hash-checking mode."""
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements.lock" in makefile
    assert "--require-hashes -r requirements-dev.lock" in makefile
    assert "--require-hashes -r requirements.lock" in (ROOT / "Dockerfile").read_text()
