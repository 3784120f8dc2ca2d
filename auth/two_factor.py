"""Two-factor authentication: TOTP secrets encrypted at rest, codes checked once, recovery codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import time

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from crypto.keys import key_id, verification_keys
from store.two_factor_records import TwoFactorRecords

ISSUER = "Book Library"
TOTP_PERIOD = 30
# One step either side: a phone clock up to 30 s off still works (RFC 6238, section 5.2).
ALLOWED_DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# ASCII digits only: \d also matches fullwidth and Arabic-Indic digits, which no app shows.
OTP_PATTERN = re.compile(r"[0-9]{6}")


def new_secret() -> str:
    """Return a new random base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=TOTP_PERIOD).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_code(uri: str) -> str:
    """Return the URI as an SVG QR code in a data: URI, made here (no third-party service)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def matching_step(secret: str, code: object, moment: float | None = None) -> int | None:
    """Return the time step whose code this is (within the allowed drift), or None."""
    if not isinstance(code, str) or not OTP_PATTERN.fullmatch(code.strip()):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_PERIOD)
    current = int((time.time() if moment is None else moment) // TOTP_PERIOD)
    for step in range(current - ALLOWED_DRIFT_STEPS, current + ALLOWED_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * TOTP_PERIOD), code.strip()):
            return step
    return None


def _encryption_key(secret_key: str) -> bytes:
    """Derive the AES-256 key that protects TOTP secrets from a signing key (HKDF-SHA256)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"book-library totp secret"
    ).derive(secret_key.encode())


def encrypt_secret(secret: str) -> str:
    """Encrypt a TOTP secret with AES-GCM under a key derived from SECRET_KEY."""
    secret_key = current_app.config["SECRET_KEY"]
    nonce = os.urandom(12)
    sealed = AESGCM(_encryption_key(secret_key)).encrypt(nonce, secret.encode(), None)
    return f"v1.{key_id(secret_key)}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt_secret(stored: str) -> str | None:
    """Decrypt a stored TOTP secret with the key that sealed it (current or previous)."""
    try:
        _, kid, payload = stored.split(".", 2)
        key = verification_keys()[kid]
        raw = base64.urlsafe_b64decode(payload)
        return AESGCM(_encryption_key(key)).decrypt(raw[:12], raw[12:], None).decode()
    except (ValueError, KeyError, InvalidTag):
        return None


def new_recovery_codes() -> list[str]:
    """Return fresh single-use recovery codes, 16 random characters each (about 78 bits)."""
    return [
        "-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4)) for _ in range(4))
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def recovery_code_digest(code: str) -> str:
    """Return what is stored of a recovery code: the SHA-256 of its normalised form."""
    normalised = re.sub(r"[\s-]", "", code.lower())
    return hashlib.sha256(normalised.encode()).hexdigest()


def verify_second_factor(user_id: str, state: dict, code: object) -> bool:
    """Accept a current TOTP code (each time step once) or an unused recovery code."""
    if not isinstance(code, str) or not code.strip() or not state.get("totp_enabled"):
        return False
    records = TwoFactorRecords()
    if OTP_PATTERN.fullmatch(code.strip()):
        secret = decrypt_secret(state.get("totp_secret") or "")
        step = matching_step(secret, code) if secret else None
        return step is not None and records.claim_step(user_id, step)
    return records.use_recovery_code(user_id, recovery_code_digest(code))
