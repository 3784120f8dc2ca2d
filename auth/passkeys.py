"""Passkeys (WebAuthn): the registration and login ceremonies, the checks made by py_webauthn.

A ceremony begins with options holding a random challenge, stored (store.passkey_records) so
any instance can finish it, and ends with the authenticator's response, which names the
challenge it answers in its clientDataJSON: that challenge is spent first (once), then the
library checks the response against it, the relying party, the origins and the stored key
(the signature counter's rule is applied here, after, so a clone can be told from a forgery).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from bson import Binary, ObjectId
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from flask import current_app
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.authentication.verify_authentication_response import VerifiedAuthentication
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRequestOptions,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

from auth.email_links import require_verified_email
from models import LoginMatch, User
from store.errors import DuplicateError
from store.passkey_records import LOGIN, REGISTRATION, PasskeyChallenges, PasskeyCredentials
from validate import normalise_email
from web.responses import ApiError

logger = logging.getLogger(__name__)

Parsed = TypeVar("Parsed", RegistrationCredential, AuthenticationCredential)
Verified = TypeVar("Verified", VerifiedRegistration, VerifiedAuthentication)

PASSKEY_REFUSED = "Passkey not recognised"
# What a malformed response raises inside py_webauthn: its own exceptions, and the errors of
# base64url, JSON, CBOR and cryptography it lets through (all found by fuzzing the routes).
RESPONSE_ERRORS = (
    WebAuthnException,
    InvalidSignature,
    UnsupportedAlgorithm,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
)


def refused() -> ApiError:
    """Return the one 401 for every passkey response that fails any check."""
    return ApiError(401, PASSKEY_REFUSED, "Unauthorized", {"WWW-Authenticate": "Bearer"})


def malformed(shape: str) -> ApiError:
    """Return the 400 naming `credential` for a response that is not the expected JSON shape."""
    return ApiError(
        400, "Invalid data", {"credential": f"credential must be a WebAuthn {shape} object"}
    )


def user_handle(user_id: str) -> bytes:
    """Return the WebAuthn user handle of a user: its id's 12 bytes (no personal data)."""
    return ObjectId(user_id).binary


def _timeout_ms() -> int:
    """Return how long the browser may wait for the user: the challenge's lifetime, in ms."""
    return int(current_app.config["WEBAUTHN_CHALLENGE_TTL"]) * 1000


def _descriptors(credentials: list[dict[str, Any]]) -> list[PublicKeyCredentialDescriptor]:
    """Return stored credentials as the descriptors options list (id and transports)."""
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(document["credential_id"]),
            transports=[AuthenticatorTransport(name) for name in document.get("transports", [])],
        )
        for document in credentials
    ]


def registration_options(user: dict[str, Any]) -> dict[str, Any]:
    """Begin registering a passkey: creation options, their challenge stored for this user."""
    config = current_app.config
    options = generate_registration_options(
        rp_id=config["WEBAUTHN_RP_ID"],
        rp_name=config["WEBAUTHN_RP_NAME"],
        user_name=user["email"],
        user_id=user_handle(user["_id"]),
        user_display_name=user["name"],
        timeout=_timeout_ms(),
        # Discoverable where the authenticator can: "Sign in with a passkey" then needs no email.
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(PasskeyCredentials().for_user(user["_id"])),
    )
    return _issued(options, REGISTRATION, user["_id"])


def _issued(
    options: PublicKeyCredentialCreationOptions | PublicKeyCredentialRequestOptions,
    purpose: str,
    user_id: str | None,
) -> dict[str, Any]:
    """Store the options' challenge for this ceremony; return the options as browsers take them."""
    challenge = bytes_to_base64url(options.challenge)
    PasskeyChallenges().store(
        challenge, purpose, user_id, current_app.config["WEBAUTHN_CHALLENGE_TTL"]
    )
    options_json: dict[str, Any] = json.loads(options_to_json(options))
    return options_json


def _answered_challenge(client_data_json: bytes) -> str:
    """Return the challenge (base64url) a response's clientDataJSON answers, or refuse."""
    try:
        return bytes_to_base64url(parse_client_data_json(client_data_json).challenge)
    except RESPONSE_ERRORS:
        raise refused() from None


def _parsed(value: Any, parse: Callable[[dict[str, Any]], Parsed], shape: str) -> Parsed:
    """Return the library's parse of a response's JSON object, or 400 naming `credential`."""
    if not isinstance(value, dict):
        raise malformed(shape)
    try:
        return parse(value)
    except RESPONSE_ERRORS:
        raise malformed(shape) from None


def _checked(
    verify: Callable[..., Verified], credential: Any, record: dict[str, Any], **key: Any
) -> Verified:
    """Have py_webauthn check a response against its challenge, the relying party and origins."""
    config = current_app.config
    try:
        return verify(
            credential=credential,
            expected_challenge=base64url_to_bytes(record["_id"]),
            expected_rp_id=config["WEBAUTHN_RP_ID"],
            expected_origin=config["WEBAUTHN_ORIGINS"],
            **key,
        )
    except RESPONSE_ERRORS:
        raise refused() from None


def parse_registration(value: Any) -> RegistrationCredential:
    """Return a RegistrationResponseJSON parsed by the library, or 400 naming `credential`."""
    return _parsed(value, parse_registration_credential_json, "RegistrationResponseJSON")


def parse_authentication(value: Any) -> AuthenticationCredential:
    """Return an AuthenticationResponseJSON parsed by the library, or 400 naming `credential`."""
    return _parsed(value, parse_authentication_credential_json, "AuthenticationResponseJSON")


def finish_registration(
    user: dict[str, Any], credential: RegistrationCredential, name: str | None
) -> dict[str, Any]:
    """Verify the authenticator's answer to this user's challenge and store the passkey."""
    challenge = _answered_challenge(credential.response.client_data_json)
    # Spent before the check: a response that fails still used up its challenge.
    record = PasskeyChallenges().consume(challenge, REGISTRATION, user["_id"])
    if record is None:
        raise refused()
    verified = _checked(verify_registration_response, credential, record)
    credentials = PasskeyCredentials()
    fields = {
        "credential_id": bytes_to_base64url(verified.credential_id),
        "public_key": Binary(verified.credential_public_key),
        "sign_count": verified.sign_count,
        "transports": [transport.value for transport in credential.response.transports or []],
        "name": name or f"Passkey {credentials.count_for_user(user['_id']) + 1}",
        "aaguid": verified.aaguid,
        "user_verified": verified.user_verified,
        "backed_up": verified.credential_backed_up,
        "device_type": verified.credential_device_type.value,
    }
    try:
        return credentials.add(user["_id"], fields)
    except DuplicateError:
        # Registered already (by this user or another): one credential has one owner.
        raise refused() from None


def login_options(email: str | None) -> dict[str, Any]:
    """Begin a passkey login: request options, their challenge stored for this attempt.

    With the email of a user who has passkeys, they are listed (and the attempt bound to that
    user); otherwise the list is empty and the browser offers discoverable credentials. An
    unknown email answers exactly like a known one without passkeys.
    """
    config = current_app.config
    user_id, allowed = None, []
    account = User().get_by_email(normalise_email(email)) if email else None
    if account is not None:
        allowed = PasskeyCredentials().for_user(account["_id"])
        user_id = account["_id"] if allowed else None
    options = generate_authentication_options(
        rp_id=config["WEBAUTHN_RP_ID"],
        timeout=_timeout_ms(),
        allow_credentials=_descriptors(allowed),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return _issued(options, LOGIN, user_id)


def finish_login(credential: AuthenticationCredential) -> LoginMatch:
    """Verify a login response; return its active user's login state, the counter moved on."""
    challenge = _answered_challenge(credential.response.client_data_json)
    record = PasskeyChallenges().consume(challenge, LOGIN)
    if record is None:
        raise refused()
    credentials = PasskeyCredentials()
    stored = credentials.by_credential_id(bytes_to_base64url(credential.raw_id))
    if stored is None or record.get("user_id") not in (None, stored["user_id"]):
        raise refused()
    handle = credential.response.user_handle
    if handle is not None and handle != user_handle(stored["user_id"]):
        raise refused()
    # One read for the user, its two-factor state and its session map (as a password login).
    match = User().for_passkey_login(stored["user_id"])
    if match is None:
        raise refused()
    verified = _verify_assertion(credential, record, stored)
    _check_second_steps(match.security, verified.user_verified)
    changes = {"backed_up": verified.credential_backed_up}
    if not credentials.record_use(stored, verified.new_sign_count, changes):
        # Another login moved the counter since it was read: this one's may be stale.
        raise refused()
    return match


def _verify_assertion(
    credential: AuthenticationCredential, record: dict[str, Any], stored: dict[str, Any]
) -> VerifiedAuthentication:
    """Have the library check the assertion against the challenge, relying party and key."""
    # No counter to beat here: the counter rule is applied below, once the assertion is known to
    # be genuine, so a clone is told from a forgery without verifying twice.
    verified = _checked(
        verify_authentication_response,
        credential,
        record,
        credential_public_key=bytes(stored["public_key"]),
        credential_current_sign_count=0,
    )
    if not counter_moved_on(verified.new_sign_count, stored["sign_count"]):
        logger.warning(
            "passkey %s of user %s: signature counter went backwards (possibly a cloned "
            "authenticator); login refused",
            stored["_id"],
            stored["user_id"],
        )
        raise refused()
    return verified


def counter_moved_on(count: int, stored_count: int) -> bool:
    """Tell whether an assertion's signature counter passes WebAuthn's rule (L2 7.2 step 21).

    An authenticator without a counter sends 0 every time; once either side is non-zero, the
    new count must be above the stored one.
    """
    return (count == 0 and stored_count == 0) or count > stored_count


def _check_second_steps(state: dict[str, Any], user_verified: bool) -> None:
    """Refuse an unverified email (when required), and a 2FA user's passkey without UV.

    A passkey whose authenticator verified the user (PIN, biometrics) is two factors in one;
    without that it is one factor, which a user who turned two-factor on has not accepted.
    """
    require_verified_email(state)
    if state.get("totp_enabled") and not user_verified:
        raise refused()


def forget_user(user_id: str) -> None:
    """Remove a user's passkeys and outstanding challenges (the account is being disabled)."""
    PasskeyCredentials().delete_for_user(user_id)
    PasskeyChallenges().delete_for_user(user_id)
