"""A software WebAuthn authenticator for the tests: an ES256 key, "none" attestation, CBOR by cbor2.

It answers the options the API gives the way a browser and a platform authenticator would,
and lets a test bend any part of the answer (origin, relying party, counter, signature).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "http://localhost:5000"
RP_ID = "localhost"
# Flags of authenticatorData: user present, user verified, attested credential data included.
USER_PRESENT = 0x01
USER_VERIFIED = 0x04
ATTESTED_DATA = 0x40
AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    """Return bytes as unpadded base64url, as WebAuthn's JSON serialisation writes them."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def from_b64url(text: str) -> bytes:
    """Return the bytes an unpadded base64url string holds."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _coordinate(value: int) -> bytes:
    """Return a P-256 coordinate as 32 big-endian bytes."""
    return value.to_bytes(32, "big")


@dataclass
class SoftwareAuthenticator:
    """One credential on a pretend authenticator: its id, key, counter and user handle."""

    origin: str = ORIGIN
    rp_id: str = RP_ID
    user_verified: bool = True
    sign_count: int = 0
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    user_handle: bytes | None = None

    def cose_key(self) -> bytes:
        """Return the credential's public key as a COSE_Key (EC2, P-256, ES256)."""
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: _coordinate(numbers.x), -3: _coordinate(numbers.y)}
        )

    def authenticator_data(self, attested: bool, rp_id: str | None = None) -> bytes:
        """Return authenticatorData: rpIdHash, flags, counter and (at creation) the credential."""
        flags = USER_PRESENT | (USER_VERIFIED if self.user_verified else 0)
        rp_hash = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        if not attested:
            return rp_hash + bytes([flags]) + struct.pack(">I", self.sign_count)
        credential = AAGUID + struct.pack(">H", len(self.credential_id)) + self.credential_id
        header = rp_hash + bytes([flags | ATTESTED_DATA]) + struct.pack(">I", self.sign_count)
        return header + credential + self.cose_key()

    def client_data(self, kind: str, challenge: str, origin: str | None = None) -> bytes:
        """Return clientDataJSON as a browser writes it."""
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        return json.dumps({**data, "crossOrigin": False}).encode()

    def register(
        self, options: dict[str, Any], origin: str | None = None, rp_id: str | None = None
    ) -> dict[str, Any]:
        """Answer creation options with a RegistrationResponseJSON ("none" attestation)."""
        self.user_handle = from_b64url(options["user"]["id"])
        client_data = self.client_data("webauthn.create", options["challenge"], origin)
        attestation = cbor2.dumps(
            {"fmt": "none", "attStmt": {}, "authData": self.authenticator_data(True, rp_id)}
        )
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def assert_login(
        self,
        options: dict[str, Any],
        origin: str | None = None,
        rp_id: str | None = None,
        count: int | None = None,
        key: ec.EllipticCurvePrivateKey | None = None,
    ) -> dict[str, Any]:
        """Answer request options with an AuthenticationResponseJSON; the counter moves on.

        count sets the counter the answer carries; key signs with another key (a forgery).
        """
        self.sign_count = self.sign_count + 1 if count is None else count
        client_data = self.client_data("webauthn.get", options["challenge"], origin)
        authenticator_data = self.authenticator_data(False, rp_id)
        signed = authenticator_data + hashlib.sha256(client_data).digest()
        signature = (key or self.key).sign(signed, ec.ECDSA(hashes.SHA256()))
        response = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(authenticator_data),
            "signature": b64url(signature),
        }
        if self.user_handle is not None:
            response["userHandle"] = b64url(self.user_handle)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
