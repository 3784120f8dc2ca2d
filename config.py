"""Settings: the one place that reads the environment, with defaults and start-up checks."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import load_dotenv
from limits import parse_many

PROJECT_ROOT = Path(__file__).resolve().parent
MIN_SECRET_KEY_BYTES = 32
SECRET_KEY_FILE = "secret_key"

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,
    "DATABASE_URL": None,
    "HOST": "127.0.0.1",
    "PORT": 5000,
    "INSTANCE_PATH": str(PROJECT_ROOT / "instance"),
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    "COVER_MAX_PIXELS": 40_000_000,
    # Memory one cover's decoding may take (the decoded image and the pipeline's copies of it).
    "COVER_MAX_DECODE_BYTES": 64 * 1024 * 1024,
    "ACCESS_TOKEN_TTL": 15 * 60,
    "REFRESH_TOKEN_TTL": 30 * 24 * 60 * 60,
    "REFRESH_GRACE_SECONDS": 30,
    "TOKEN_LEEWAY_SECONDS": 5,
    "PREVIOUS_SECRET_KEYS": "",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_LOGIN_PER_ACCOUNT": "5 per minute;20 per hour",
    "RATELIMIT_LOGIN_ACCOUNT_CEILING": "100 per hour",
    "RATELIMIT_OTP_PER_ACCOUNT": "5 per minute;20 per hour",
    "RATELIMIT_LOGIN_PER_ADDRESS": "20 per minute;200 per hour",
    "RATELIMIT_SIGNUP_PER_ADDRESS": "10 per minute;50 per hour",
    "RATELIMIT_REFRESH_PER_ADDRESS": "60 per minute",
    "RATELIMIT_PASSKEY_OPTIONS_PER_ADDRESS": "30 per minute;300 per hour",
    "RATELIMIT_PASSWORD_CHECK_PER_ACCOUNT": "5 per minute;20 per hour",
    "TRUSTED_PROXIES": "",
    "PUBLIC_URL": None,
    # Host names (ports ignored) a request's Host header may carry; empty: see trusted_hosts().
    "TRUSTED_HOSTS": "",
    "COVER_STORAGE": "local",
    "SMTP_HOST": "",
    "SMTP_PORT": 587,
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": True,
    "MAIL_FROM": "Book Library <no-reply@localhost>",
    "REQUIRE_EMAIL_VERIFICATION": False,
    "RESET_TOKEN_TTL": 30 * 60,
    "VERIFY_TOKEN_TTL": 48 * 60 * 60,
    # Seconds after login during which DELETE /users/ needs no password (0: always ask).
    "REAUTH_WINDOW": 10 * 60,
    "RATELIMIT_EMAIL_PER_ADDRESS": "5 per minute;30 per hour",
    "RATELIMIT_EMAIL_PER_ACCOUNT": "3 per hour",
    "DB_TIMEOUT_MS": 2000,
    "DEBUG": False,
    "CORS_ORIGINS": "",
    "READY_TIMEOUT_MS": 1000,
    "LOG_LEVEL": "INFO",
    "ACCESS_LOG": True,
    # gunicorn (gunicorn.conf.py): worker processes (empty: 2 x CPUs + 1), connections each serves.
    "WEB_CONCURRENCY": None,
    "WORKER_CONNECTIONS": 1000,
    # Seconds a client may take to send a request's line and headers (also the keep-alive idle
    # time), and its whole body, counted from the end of the headers, before it is cut off.
    "REQUEST_HEADER_TIMEOUT": 10,
    "REQUEST_BODY_TIMEOUT": 60,
    # Passkeys (WebAuthn): unset, the relying party and origin come from PUBLIC_URL, else
    # http://localhost:PORT (see webauthn_settings); a challenge lives this many seconds.
    "WEBAUTHN_RP_ID": "",
    "WEBAUTHN_RP_NAME": "Book Library",
    "WEBAUTHN_ORIGINS": "",
    "WEBAUTHN_CHALLENGE_TTL": 300,
}

INTEGER_SETTINGS = (
    "PORT",
    "MAX_CONTENT_LENGTH",
    "COVER_MAX_PIXELS",
    "COVER_MAX_DECODE_BYTES",
    "ACCESS_TOKEN_TTL",
    "REFRESH_TOKEN_TTL",
    "DB_TIMEOUT_MS",
    "READY_TIMEOUT_MS",
    "SMTP_PORT",
    "RESET_TOKEN_TTL",
    "VERIFY_TOKEN_TTL",
    "WORKER_CONNECTIONS",
    "REQUEST_HEADER_TIMEOUT",
    "REQUEST_BODY_TIMEOUT",
    "WEBAUTHN_CHALLENGE_TTL",
)
BOOLEAN_SETTINGS = (
    "DEBUG",
    "RATELIMIT_ENABLED",
    "ACCESS_LOG",
    "SMTP_STARTTLS",
    "REQUIRE_EMAIL_VERIFICATION",
)


COVER_STORAGES = ("local", "gridfs")
# The rates of the rate limits (RATELIMIT_ENABLED switches them all).
RATE_SETTINGS = tuple(
    name for name in DEFAULTS if name.startswith("RATELIMIT_") and name != "RATELIMIT_ENABLED"
)


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(Exception):
    """A setting that prevents start-up; the message is one line and never contains a secret."""


def read_environment() -> dict[str, Any]:
    """Return the DEFAULTS settings set in the environment, after loading .env."""
    load_dotenv(PROJECT_ROOT / ".env")
    return {name: os.environ[name] for name in DEFAULTS if os.environ.get(name, "") != ""}


def load_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, the environment and explicit overrides, then convert and check them."""
    settings = {**DEFAULTS, **read_environment(), **(overrides or {})}
    for name in INTEGER_SETTINGS:
        settings[name] = _whole_number(name, settings[name], minimum=1)
    for name in ("REFRESH_GRACE_SECONDS", "TOKEN_LEEWAY_SECONDS", "REAUTH_WINDOW"):
        settings[name] = _whole_number(name, settings[name], minimum=0)
    for name in BOOLEAN_SETTINGS:
        settings[name] = _boolean(settings[name])
    if settings["WEB_CONCURRENCY"] is not None:
        settings["WEB_CONCURRENCY"] = _whole_number(
            "WEB_CONCURRENCY", settings["WEB_CONCURRENCY"], minimum=1
        )
    settings["LOG_LEVEL"] = _log_level(settings["LOG_LEVEL"])
    settings["INSTANCE_PATH"] = str(Path(settings["INSTANCE_PATH"]).resolve())
    if settings["DATABASE_URL"]:
        check_database_url(settings["DATABASE_URL"])
    if settings["COVER_STORAGE"] not in COVER_STORAGES:
        raise ConfigError("COVER_STORAGE must be one of: " + ", ".join(COVER_STORAGES))
    if settings["PUBLIC_URL"]:
        settings["PUBLIC_URL"] = _check_public_url(settings["PUBLIC_URL"])
    settings["TRUSTED_HOSTS"] = trusted_hosts(settings)
    settings["TRUSTED_PROXIES"] = parse_trusted_proxies(settings["TRUSTED_PROXIES"])
    settings["CORS_ORIGINS"] = parse_origins("CORS_ORIGINS", settings["CORS_ORIGINS"])
    settings.update(rate_limits(settings))
    if settings["SECRET_KEY"] is not None:
        check_secret_key(settings["SECRET_KEY"])
    settings["PREVIOUS_SECRET_KEYS"] = _previous_keys(settings["PREVIOUS_SECRET_KEYS"])
    settings.update(webauthn_settings(settings))
    return settings


def parse_trusted_proxies(value: Any) -> tuple[IPNetwork, ...]:
    """Parse TRUSTED_PROXIES (IPs or CIDRs, comma-separated or a list), refusing the rest."""
    entries = [value] if isinstance(value, str) else list(value or ())
    networks = []
    for entry in (part for item in entries for part in str(item).replace(",", " ").split()):
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network (e.g. 10.0.0.0/8)"
            ) from None
    return tuple(networks)


def rate_limits(settings: Mapping[str, Any]) -> dict[str, str]:
    """Return every RATELIMIT_* rate by setting name (empty: that limit is off), checked."""
    rates = {}
    for name in RATE_SETTINGS:
        value = settings.get(name, DEFAULTS[name])
        value = "" if value is None else str(value).strip()
        if value:
            try:
                parse_many(value)
            except ValueError:
                raise ConfigError(
                    f"{name} must be a rate such as '5 per minute;20 per hour', got {value!r}"
                ) from None
        rates[name] = value
    return rates


def _previous_keys(value: Any) -> list[str]:
    """Split PREVIOUS_SECRET_KEYS (comma-separated) and check each key's length."""
    keys = value if isinstance(value, list | tuple) else str(value or "").split(",")
    keys = [key.strip() for key in keys if key.strip()]
    for key in keys:
        try:
            check_secret_key(key)
        except ConfigError:
            raise ConfigError("PREVIOUS_SECRET_KEYS: every key must be at least 32 bytes") from None
    return keys


def _whole_number(name: str, value: Any, minimum: int) -> int:
    """Convert a setting to a whole number of at least `minimum`, or refuse to start."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {number}")
    return number


def _log_level(value: Any) -> str:
    """Return the name of the logging level LOG_LEVEL names, in capitals, or refuse to start."""
    name = str(value or "").strip().upper()
    if name not in logging.getLevelNamesMapping():
        raise ConfigError(
            f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {value!r}"
        )
    return name


def _boolean(value: Any) -> bool:
    """Read a yes/no setting: true, 1, yes and on (any case) are yes."""
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def check_secret_key(secret_key: str) -> None:
    """Refuse a SECRET_KEY shorter than 32 bytes (its value is never echoed)."""
    if len(str(secret_key).encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(
            f"SECRET_KEY is too short: use at least {MIN_SECRET_KEY_BYTES} bytes "
            '(e.g. python -c "import secrets; print(secrets.token_urlsafe(48))")'
        )


def check_database_url(url: str) -> None:
    """Refuse a DATABASE_URL that is not a mongodb:// or mongodb+srv:// URL (credentials hidden)."""
    parts = urlsplit(url)
    if parts.scheme not in {"mongodb", "mongodb+srv"} or not parts.netloc:
        raise ConfigError(
            "DATABASE_URL must start with mongodb:// or mongodb+srv:// and name a host"
        )


def _check_public_url(url: str) -> str:
    """Return PUBLIC_URL with one trailing slash, or refuse it."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError("PUBLIC_URL must be an absolute http:// or https:// URL")
    return url.rstrip("/") + "/"


# scheme://host[:port], lower-cased before matching; a DNS name or an IPv4 address, nothing else.
ORIGIN_PATTERN = re.compile(
    r"(?P<scheme>https?)://"
    r"(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
DEFAULT_PORTS = {"http": 80, "https": 443}
RP_ID_PATTERN = re.compile(
    r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)


def webauthn_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Return the passkey relying party (id, name) and origins, derived if unset, or refuse them.

    Unset, the origin is PUBLIC_URL's (else http://localhost:PORT, what `make run` serves and
    browsers treat as a secure context) and the relying-party id is that origin's host.
    """
    origins = parse_origins("WEBAUTHN_ORIGINS", settings["WEBAUTHN_ORIGINS"], root_path=True)
    if not origins:
        public_url = settings["PUBLIC_URL"]
        parts = urlsplit(public_url) if public_url else None
        origins = [f"{parts.scheme}://{parts.netloc}".lower() if parts else ""]
        origins = [origins[0] or f"http://localhost:{settings['PORT']}"]
    rp_id = str(settings["WEBAUTHN_RP_ID"] or "").strip().lower()
    rp_id = rp_id or (urlsplit(origins[0]).hostname or "")
    if not RP_ID_PATTERN.fullmatch(rp_id):
        raise ConfigError(f"WEBAUTHN_RP_ID must be a host name such as example.com, got {rp_id!r}")
    for origin in origins:
        host = urlsplit(origin).hostname or ""
        if host != rp_id and not host.endswith("." + rp_id):
            raise ConfigError(
                f"WEBAUTHN_RP_ID {rp_id!r} must be the host of every WEBAUTHN_ORIGINS entry or "
                f"a parent domain of it; {origin!r} is not under it"
            )
    name = str(settings["WEBAUTHN_RP_NAME"] or "").strip()
    if not name:
        raise ConfigError("WEBAUTHN_RP_NAME must not be empty")
    return {"WEBAUTHN_RP_ID": rp_id, "WEBAUTHN_RP_NAME": name, "WEBAUTHN_ORIGINS": origins}


def parse_origins(name: str, value: Any, root_path: bool = False) -> list[str]:
    """Return the origins a setting lists (comma-separated), as browsers write them, or refuse one.

    Lower case, no default port, duplicates dropped; root_path accepts a trailing "/".
    """
    entries = [value] if isinstance(value, str) else list(value or ())
    parts = (part.strip() for entry in entries for part in str(entry).split(","))
    origins = [_origin(name, part, root_path) for part in parts if part]
    return list(dict.fromkeys(origins))


def _origin(name: str, entry: str, root_path: bool) -> str:
    """Return one origin (scheme://host[:port]) as browsers send it, or raise ConfigError."""
    if entry == "*":
        raise ConfigError(f"{name} must list the allowed origins one by one; '*' is not accepted")
    text = entry.lower()
    match = ORIGIN_PATTERN.fullmatch(text[:-1] if root_path and text.endswith("/") else text)
    if match is None:
        raise ConfigError(
            f"{name}: {entry!r} is not an origin; use scheme://host[:port] with no path, "
            "e.g. https://books.example.com"
        )
    scheme, host, port = match["scheme"], match["host"], match["port"]
    if port is not None and not 1 <= int(port) <= 65535:
        raise ConfigError(f"{name}: {entry!r} has an invalid port")
    if port is None or int(port) == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{int(port)}"


LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
WILDCARD_ADDRESSES = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 - compared, never bound


def trusted_hosts(settings: Mapping[str, Any]) -> list[str] | None:
    """Return the host names Flask accepts in a Host header (None: any, when set to "*").

    Unset, they are PUBLIC_URL's host, HOST unless it is a wildcard address, and loopback: a
    Host header naming loopback can only point links back at the client's own machine.
    """
    value = settings["TRUSTED_HOSTS"]
    names = value if isinstance(value, list | tuple) else str(value or "").split(",")
    names = [_host_name(name) for name in names if name.strip()]
    if "*" in names:
        return None
    if names:
        return names
    defaults = [*LOOPBACK_HOSTS]
    if settings["PUBLIC_URL"]:
        defaults.append(urlsplit(settings["PUBLIC_URL"]).hostname or "")
    if str(settings["HOST"]).strip() not in WILDCARD_ADDRESSES:
        defaults.append(str(settings["HOST"]).strip().lower())
    # An IPv6 literal (HOST=::1) cannot be matched (see _host_name): reach it by name instead.
    return list(dict.fromkeys(name for name in defaults if name and ":" not in name))


def _host_name(value: str) -> str:
    """Return a host name without its port, lower-cased, or refuse an IPv6 literal."""
    name = value.strip().lower()
    if name.startswith("[") or name.count(":") > 1:
        # Werkzeug 3.1 cannot match a bracketed IPv6 Host header against any list entry.
        raise ConfigError("TRUSTED_HOSTS: IPv6 addresses cannot be listed; use a host name")
    return name.partition(":")[0]


def instance_secret_key(instance_path: str | os.PathLike[str]) -> str:
    """Return the key kept in the instance folder, creating it once (mode 0600) if absent."""
    path = Path(instance_path) / SECRET_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret_file(path)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
        handle.flush()
        os.fsync(handle.fileno())
    return _read_secret_file(path)


def _read_secret_file(path: Path) -> str:
    """Read a generated key, waiting briefly if another process is still writing it."""
    for _ in range(50):
        key = path.read_text().strip()
        if key:
            check_secret_key(key)
            return key
        # Another worker created the file an instant ago and has not written it yet.
        time.sleep(0.02)
    raise ConfigError(f"{path} is empty: delete it to have a new key generated")
