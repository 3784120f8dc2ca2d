"""Start-up configuration: secret key rules, the generated key, URL and number checks."""

from __future__ import annotations

import ipaddress
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from config import PROJECT_ROOT, ConfigError, load_settings, rate_limits
from tests.helpers import base_config, log_in, real_server_only, sign_up


@pytest.mark.parametrize("key", ["my-weak-key", "x" * 31, "é" * 15])
def test_secret_key_under_32_bytes_stops_start_up_without_echoing_it(tmp_path, key):
    with pytest.raises(ConfigError) as raised:
        create_app({**base_config(tmp_path), "SECRET_KEY": key})

    assert "SECRET_KEY is too short" in str(raised.value)
    assert key not in str(raised.value)


def test_secret_key_of_32_bytes_is_accepted():
    assert load_settings({"SECRET_KEY": "k" * 32})["SECRET_KEY"] == "k" * 32


def test_without_secret_key_one_is_generated_once_with_mode_0600(tmp_path, make_app):
    first = make_app(SECRET_KEY=None)
    second = make_app(SECRET_KEY=None)

    key_file = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"].encode()) >= 32
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()


# Logs in through the app: the sessions' client-level bulk write needs a real server.
@real_server_only
def test_tokens_survive_a_restart_with_the_generated_key(make_app):
    before = make_app(SECRET_KEY=None).test_client()
    sign_up(before, "ada@example.com")
    token = log_in(before, "ada@example.com")

    after = make_app(SECRET_KEY=None).test_client()
    response = after.get("/users/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json["data"]["email"] == "ada@example.com"


@pytest.mark.parametrize(
    "url",
    ["postgres://db/x", "localhost:27017", "mongodb://", "http://user:hunter2@db/x"],
)
def test_database_url_must_be_a_mongodb_url_and_is_never_echoed(tmp_path, url):
    with pytest.raises(ConfigError) as raised:
        load_settings({**base_config(tmp_path), "DATABASE_URL": url})

    assert "DATABASE_URL must start with mongodb://" in str(raised.value)
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "abc"),
        ("MAX_CONTENT_LENGTH", "-1"),
        ("ACCESS_TOKEN_TTL", "0"),
        ("WEB_CONCURRENCY", "two"),
        ("WORKER_CONNECTIONS", "0"),
    ],
)
def test_numbers_must_be_positive_whole_numbers(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_public_url_must_be_absolute():
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_settings({"PUBLIC_URL": "api.example.com"})


def test_environment_is_read_at_start_up(monkeypatch):
    monkeypatch.setenv("ACCESS_TOKEN_TTL", "900")
    monkeypatch.setenv("PORT", "8080")

    settings = load_settings()

    assert settings["ACCESS_TOKEN_TTL"] == 900
    assert settings["PORT"] == 8080


def test_debug_is_off_unless_asked_for():
    assert load_settings()["DEBUG"] is False
    assert load_settings({"DEBUG": "true"})["DEBUG"] is True


def run_wsgi(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """Import the WSGI entry point in a fresh interpreter with the given environment."""
    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY"}}
    env.update(INSTANCE_PATH=str(tmp_path), **environment)
    return subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_weak_key_stops_the_server_with_one_line_and_no_traceback(tmp_path):
    result = run_wsgi(tmp_path, SECRET_KEY="weak-secret")

    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: SECRET_KEY is too short")
    assert "Traceback" not in result.stderr
    assert "weak-secret" not in result.stderr + result.stdout


def test_bad_database_url_stops_the_server_with_one_line(tmp_path):
    result = run_wsgi(tmp_path, DATABASE_URL="mysql://root:hunter2@db/x")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: DATABASE_URL must start with mongodb:// or mongodb+srv:// and name a host"
    )


def hosts(**overrides: object) -> list[str] | None:
    """Return the TRUSTED_HOSTS that load_settings makes of these settings."""
    settings = {"TRUSTED_HOSTS": "", "PUBLIC_URL": None, "HOST": "127.0.0.1", **overrides}
    return load_settings(settings)["TRUSTED_HOSTS"]


def test_trusted_hosts_default_to_loopback():
    assert hosts() == ["localhost", "127.0.0.1"]


def test_trusted_hosts_default_adds_public_url_and_a_named_host_but_no_wildcard():
    assert hosts(PUBLIC_URL="https://Books.example.com:8443/", HOST="api.internal") == [
        "localhost",
        "127.0.0.1",
        "books.example.com",
        "api.internal",
    ]
    assert hosts(HOST="0.0.0.0") == hosts(HOST="::") == ["localhost", "127.0.0.1"]


def test_trusted_hosts_setting_is_a_list_of_names_without_ports():
    assert hosts(TRUSTED_HOSTS=" api.example.com:443 ,.example.org,") == [
        "api.example.com",
        ".example.org",
    ]
    assert hosts(TRUSTED_HOSTS="*") is None


def test_trusted_hosts_refuses_an_ipv6_address():
    with pytest.raises(ConfigError) as raised:
        hosts(TRUSTED_HOSTS="localhost,[::1]:5000")

    assert str(raised.value) == "TRUSTED_HOSTS: IPv6 addresses cannot be listed; use a host name"


@pytest.mark.parametrize("rate", ["five a minute", "5 per fortnight", "5/minute/x"])
def test_a_rate_limits_cannot_parse_stops_start_up(tmp_path, rate):
    with pytest.raises(ConfigError) as raised:
        load_settings({**base_config(tmp_path), "RATELIMIT_LOGIN_PER_ACCOUNT": rate})

    assert str(raised.value) == (
        "RATELIMIT_LOGIN_PER_ACCOUNT must be a rate such as '5 per minute;20 per hour', "
        f"got {rate!r}"
    )


def test_an_empty_rate_turns_that_limit_off(tmp_path):
    settings = load_settings({**base_config(tmp_path), "RATELIMIT_SIGNUP_PER_ADDRESS": ""})

    assert rate_limits(settings)["RATELIMIT_SIGNUP_PER_ADDRESS"] == ""
    assert rate_limits(settings)["RATELIMIT_LOGIN_PER_ACCOUNT"] == "5 per minute;20 per hour"


def test_list_settings_are_parsed_once_at_start_up_into_their_final_form(tmp_path):
    settings = load_settings(
        {
            **base_config(tmp_path),
            "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7",
            "CORS_ORIGINS": "https://App.Example.com:443, http://localhost:3000",
            "RATELIMIT_REFRESH_PER_ADDRESS": "  60 per minute ",
        }
    )

    assert settings["TRUSTED_PROXIES"] == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.7/32"),
    )
    assert settings["CORS_ORIGINS"] == ["https://app.example.com", "http://localhost:3000"]
    assert settings["RATELIMIT_REFRESH_PER_ADDRESS"] == "60 per minute"
    # Loading what was loaded changes nothing (gunicorn.conf.py and the app both load).
    assert load_settings(settings) == settings


def test_a_trusted_proxy_that_is_not_an_address_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match=r"TRUSTED_PROXIES: 'proxy\.local'"):
        load_settings({**base_config(tmp_path), "TRUSTED_PROXIES": "10.0.0.1, proxy.local"})


@pytest.mark.parametrize(("value", "name"), [("warning", "WARNING"), (" Debug ", "DEBUG")])
def test_log_level_is_read_as_a_level_name_in_capitals(value, name):
    assert load_settings({"LOG_LEVEL": value})["LOG_LEVEL"] == name


def test_unknown_log_level_is_refused_with_the_settings():
    # Refused by load_settings itself, so gunicorn.conf.py stops before it starts anything.
    with pytest.raises(ConfigError) as raised:
        load_settings({"LOG_LEVEL": "chatty"})

    assert str(raised.value) == (
        "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got 'chatty'"
    )
