"""Passkey routes: register, list and delete a user's passkeys, and log in with one (WebAuthn)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from auth.passkeys import (
    finish_login,
    finish_registration,
    login_options,
    parse_authentication,
    parse_registration,
    refused,
    registration_options,
)
from auth.sessions import open_session
from auth.step_up import confirm_password
from auth_middleware import password_required, token_required
from store.passkey_records import PasskeyCredentials
from validate import (
    PASSKEY_LOGIN,
    PASSKEY_LOGIN_OPTIONS,
    PASSKEY_REGISTRATION,
    PASSWORD_CONFIRMATION,
)
from web.ratelimit import limit_login, limit_passkey_options
from web.request_body import accepts, check, json_body
from web.responses import ApiError, success_response

passkeys = Blueprint("passkeys", __name__)


def passkey_body() -> dict[str, Any]:
    """Return the JSON body once the route's schema accepts it; no body counts as {}.

    So a missing or non-object body is refused like a missing field: 400 naming `credential`.
    """
    data = json_body(default={})
    check(data)
    return data


@passkeys.route("/users/passkeys/register/options", methods=["POST"])
@password_required(PASSWORD_CONFIRMATION)
def begin_registration(current_user: dict[str, Any]) -> Response:
    """Begin adding a passkey (needs the current password): the creation options."""
    data = json_body("Please provide your current password")
    confirm_password(current_user["_id"], data)
    return success_response("Passkey creation options", registration_options(current_user))


@passkeys.route("/users/passkeys", methods=["POST"])
@accepts(PASSKEY_REGISTRATION)
@token_required
def add_passkey(current_user: dict[str, Any]) -> Response:
    """Finish adding a passkey: verify the authenticator's response and store the credential."""
    data = passkey_body()
    credential = parse_registration(data["credential"])
    name = data["name"].strip() if "name" in data else None
    passkey = finish_registration(current_user, credential, name)
    return success_response("Passkey registered", passkey, 201)


@passkeys.route("/users/passkeys", methods=["GET"])
@token_required
def list_passkeys(current_user: dict[str, Any]) -> Response:
    """List the caller's passkeys, oldest first."""
    data = PasskeyCredentials().list_public(current_user["_id"])
    return success_response("successfully retrieved passkeys", data)


@passkeys.route("/users/passkeys/<passkey_id>", methods=["DELETE"])
@token_required
def delete_passkey(current_user: dict[str, Any], passkey_id: str) -> Response:
    """Remove one of the caller's passkeys (the last one too: every account has a password)."""
    if not PasskeyCredentials().delete(current_user["_id"], passkey_id):
        raise ApiError(404, "Passkey not found", "Not Found")
    return Response(status=204)


@passkeys.route("/users/login/passkey/options", methods=["POST"])
@accepts(PASSKEY_LOGIN_OPTIONS)
@limit_passkey_options
def begin_login() -> Response:
    """Begin a passkey login: the request options (the email, if given, lists its passkeys)."""
    data = passkey_body()
    return success_response("Passkey login options", login_options(data.get("email")))


@passkeys.route("/users/login/passkey", methods=["POST"])
@accepts(PASSKEY_LOGIN)
@limit_login
def log_in_with_passkey() -> Response:
    """Log in with a passkey: the same user and token pair as a password login."""
    data = passkey_body()
    match = finish_login(parse_authentication(data["credential"]))
    tokens = open_session(match.user["_id"], match.sessions)
    if tokens is None:
        raise refused()
    return success_response("Successfully fetched auth token", {**match.user, **tokens})
