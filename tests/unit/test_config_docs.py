"""Every setting config.py reads is documented: in docs/configuration.md and in .env.example."""

from __future__ import annotations

import re
from pathlib import Path

import config

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")
SETTINGS_TABLE_HEADER = "\n| setting | default | meaning |\n"


def documented_settings() -> set[str]:
    """The setting names in the first column of the settings table of docs/configuration.md."""
    page = (ROOT / "docs" / "configuration.md").read_text()
    # The table is the one headed "| setting | default | meaning |"; it ends at its first non-row.
    table = page.split(SETTINGS_TABLE_HEADER, 1)[1].split("\n\n", 1)[0]
    names: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            names.update(NAME.findall(line.split("|")[1]))
    return names


def example_settings() -> set[str]:
    """The names .env.example sets or shows commented out."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def test_every_setting_is_in_the_configuration_table() -> None:
    """A setting config.py reads but the table leaves out (or one the table invents) fails."""
    assert documented_settings() == set(config.DEFAULTS)


def test_every_setting_is_in_env_example() -> None:
    """.env.example lists exactly the settings config.py reads."""
    assert example_settings() == set(config.DEFAULTS)
