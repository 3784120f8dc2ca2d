"""Passkey settings: the relying party and origins derived from PUBLIC_URL or PORT, and checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, load_settings
from tests.helpers import base_config


def settings(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Return the loaded settings with these overrides (the developer's environment shut out)."""
    return load_settings({**base_config(tmp_path), **overrides})


def test_without_public_url_the_relying_party_is_localhost_on_the_port(tmp_path):
    loaded = settings(tmp_path, PORT=8123)

    assert loaded["WEBAUTHN_RP_ID"] == "localhost"
    assert loaded["WEBAUTHN_ORIGINS"] == ["http://localhost:8123"]
    assert loaded["WEBAUTHN_RP_NAME"] == "Book Library"
    assert loaded["WEBAUTHN_CHALLENGE_TTL"] == 300


def test_public_url_gives_the_relying_party_and_origin(tmp_path):
    loaded = settings(tmp_path, PUBLIC_URL="https://Books.Example.com/api/")

    assert loaded["WEBAUTHN_RP_ID"] == "books.example.com"
    assert loaded["WEBAUTHN_ORIGINS"] == ["https://books.example.com"]


def test_origins_are_written_as_browsers_write_them(tmp_path):
    loaded = settings(
        tmp_path,
        WEBAUTHN_RP_ID="Example.com",
        WEBAUTHN_ORIGINS=" https://books.example.com:443/ , http://app.example.com:8080",
    )

    assert loaded["WEBAUTHN_RP_ID"] == "example.com"
    assert loaded["WEBAUTHN_ORIGINS"] == [
        "https://books.example.com",
        "http://app.example.com:8080",
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"WEBAUTHN_ORIGINS": "https://books.example.com/login"}, "no path"),
        ({"WEBAUTHN_ORIGINS": "ftp://books.example.com"}, "no path"),
        ({"WEBAUTHN_ORIGINS": "books.example.com"}, "no path"),
        ({"WEBAUTHN_ORIGINS": "https://books.example.com:99999"}, "invalid port"),
        (
            {"WEBAUTHN_ORIGINS": "https://books.example.com", "WEBAUTHN_RP_ID": "other.com"},
            "is not under it",
        ),
        (
            {"WEBAUTHN_ORIGINS": "https://books.example.com", "WEBAUTHN_RP_ID": "ample.com"},
            "is not under it",
        ),
        ({"WEBAUTHN_RP_ID": "https://localhost"}, "must be a host name"),
        ({"WEBAUTHN_RP_NAME": "  "}, "WEBAUTHN_RP_NAME"),
        ({"WEBAUTHN_CHALLENGE_TTL": "0"}, "WEBAUTHN_CHALLENGE_TTL"),
    ],
)
def test_bad_passkey_settings_stop_start_up_with_one_clear_line(tmp_path, overrides, message):
    with pytest.raises(ConfigError) as raised:
        settings(tmp_path, **overrides)

    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
