"""The user routes: sign-up, login, profile, password, sessions and disabling an account."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, request

from auth.email_links import public_base_url, require_verified_email, send_verification_link
from auth.passkeys import forget_user
from auth.sessions import Sessions, open_session, refresh_session
from auth.step_up import confirm_password
from auth.two_factor import verify_second_factor
from auth_middleware import password_required, token_required
from models import User
from store.email_tokens import EmailTokens
from store.errors import DuplicateError
from store.timestamps import as_utc, now
from validate import (
    LOGIN,
    PASSWORD_CHANGE,
    PASSWORD_CONFIRMATION,
    PROFILE,
    REFRESH,
    SESSIONS_QUERY,
    SIGN_UP,
    normalise_email,
    normalise_name,
    validate_password_change,
)
from web import mailer
from web.rate_keys import checking_second_factor
from web.ratelimit import (
    limit_login,
    limit_refresh,
    limit_signup,
    reserve_code_attempt,
)
from web.request_body import accepts, check, has_body, json_body, valid_json
from web.responses import ApiError, success_response

users = Blueprint("users", __name__)


@users.route("/users/", methods=["POST"])
@accepts(SIGN_UP)
@limit_signup
def add_user() -> Response:
    """Sign up: create an active user."""
    data = valid_json()
    must_verify = current_app.config["REQUIRE_EMAIL_VERIFICATION"]
    try:
        user = User().create(
            normalise_name(data["name"]),
            normalise_email(data["email"]),
            data["password"],
            email_verified=not must_verify,
        )
    except DuplicateError:
        raise ApiError(409, "User already exists", "Conflict") from None
    if must_verify:
        mailer.run_in_background(
            send_verification_link, user["_id"], user["email"], user["name"], public_base_url()
        )
    return success_response("Successfully created new user", user, 201)


@users.route("/users/login", methods=["POST"])
@accepts(LOGIN)
@limit_login
def login() -> Response:
    """Log in with email and password; answer the user with an access token."""
    data = valid_json()
    match = User().login(normalise_email(data["email"]), data["password"])
    if match is None:
        raise login_refused()
    user = match.user
    # The security state and session map come from login's own read: no second user lookup.
    # The password was right: a refusal now is the second steps' (limited on its own).
    with checking_second_factor():
        check_second_steps(user["_id"], match.security, data.get("otp"))
    tokens = open_session(user["_id"], match.sessions, match.password_hash)
    if tokens is None:
        # The password changed between its check and the session's write: it was the old one.
        raise login_refused()
    return success_response("Successfully fetched auth token", {**user, **tokens})


def login_refused() -> ApiError:
    """Return the one 401 for an unknown email, a wrong password or a disabled account."""
    return ApiError(
        401,
        "Error fetching auth token!, invalid email or password",
        "Unauthorized",
        {"WWW-Authenticate": "Bearer"},
    )


def check_second_steps(user_id: str, state: dict[str, Any], otp: Any) -> None:
    """After the password: refuse an unverified email (when required) and check the 2FA code."""
    require_verified_email(state)
    if not state.get("totp_enabled"):
        return
    if otp is None or otp == "":
        raise ApiError(
            401,
            "A two-factor authentication code is required",
            "otp_required",
            {"WWW-Authenticate": "Bearer"},
        )
    # Counted before the check, so concurrent guesses cannot all pass a limit none has met yet.
    reserve_code_attempt()
    if not verify_second_factor(user_id, state, otp):
        raise ApiError(
            401,
            "Invalid two-factor authentication code",
            "Unauthorized",
            {"WWW-Authenticate": "Bearer"},
        )


@users.route("/users/token/refresh", methods=["POST"])
@accepts(REFRESH)
@limit_refresh
def refresh_token() -> Response:
    """Trade a refresh token for a new access and refresh token pair (the old one is spent)."""
    data = valid_json("Please provide a refresh_token")
    return success_response(
        "Successfully refreshed auth token", refresh_session(data["refresh_token"])
    )


@users.route("/users/logout", methods=["POST"])
@token_required
def logout(current_user: dict[str, Any]) -> Response:
    """End the current session: its access and refresh tokens stop working at once."""
    Sessions().revoke(current_user["_id"], {g.session_id})
    return Response(status=204)


@users.route("/users/sessions", methods=["GET"])
@token_required
def list_sessions(current_user: dict[str, Any]) -> Response:
    """List the caller's open sessions, marking the one this token belongs to."""
    sessions = Sessions()
    listed = sessions.list_open(current_user["_id"], sessions.open_ids(current_user["_id"]))
    data = [{**session, "current": session["_id"] == g.session_id} for session in listed]
    return success_response("successfully retrieved sessions", data)


@users.route("/users/sessions/<session_id>", methods=["DELETE"])
@token_required
def revoke_session(current_user: dict[str, Any], session_id: str) -> Response:
    """End one of the caller's sessions (this one included)."""
    sessions = Sessions()
    if session_id not in sessions.open_ids(current_user["_id"]):
        raise ApiError(404, "Session not found", "Not Found")
    sessions.revoke(current_user["_id"], {session_id})
    return Response(status=204)


@users.route("/users/sessions", methods=["DELETE"])
@accepts(SESSIONS_QUERY)
@token_required
def revoke_sessions(current_user: dict[str, Any]) -> Response:
    """End every other session of the caller; with ?all=true, this one too."""
    check(request.args)
    everything = request.args.get("all", "false").lower()
    keep = None if everything == "true" else g.session_id
    Sessions().revoke_all(current_user["_id"], keep=keep)
    return Response(status=204)


@users.route("/users/password", methods=["PUT"])
@password_required(PASSWORD_CHANGE)
def change_password(current_user: dict[str, Any]) -> Response:
    """Change the password; every other session ends."""
    data = json_body()
    errors = validate_password_change(data)
    if errors:
        raise ApiError(400, "Invalid data", errors)
    accounts = User()
    if not accounts.check_password(current_user["_id"], data["current_password"]):
        raise ApiError(400, "Invalid data", {"current_password": "current password is incorrect"})
    accounts.set_password(current_user["_id"], data["new_password"])
    Sessions().revoke_all(current_user["_id"], keep=g.session_id)
    return success_response("successfully updated password", current_user)


@users.route("/users/", methods=["GET"])
@token_required
def get_current_user(current_user: dict[str, Any]) -> Response:
    """Return the caller's profile."""
    return success_response("successfully retrieved user profile", current_user)


@users.route("/users/", methods=["PUT"])
@accepts(PROFILE)
@token_required
def update_user(current_user: dict[str, Any]) -> Response:
    """Change the caller's name (the only field a user can change)."""
    data = valid_json()
    user = User().update(current_user["_id"], normalise_name(data["name"]))
    if user is None:
        raise ApiError(404, "User not found", "Not Found")
    return success_response("successfully updated account", user)


@users.route("/users/", methods=["DELETE"])
@password_required(PASSWORD_CONFIRMATION)
def disable_user(current_user: dict[str, Any]) -> Response:
    """Disable the caller's account; every session ends at once.

    The tutorial's bare call still works just after login; an older session (the token may have
    been stolen since) must confirm with the password.
    """
    data = json_body("Please provide your current password") if has_body() else {}
    if data.get("password") is not None or not logged_in_recently():
        if data.get("password") is None:
            raise ApiError(
                403,
                "Confirm with your current password to disable this account",
                "reauthentication_required",
            )
        confirm_password(current_user["_id"], data)
    User().disable_account(current_user["_id"])
    Sessions().revoke_all(current_user["_id"])
    # A disabled account keeps no way in: its passkeys, unfinished ceremonies and emailed
    # links (reset, verification) go.
    forget_user(current_user["_id"])
    EmailTokens().revoke_all(current_user["_id"])
    return Response(status=204)


def logged_in_recently() -> bool:
    """Tell whether this token's session began (its login) less than REAUTH_WINDOW seconds ago."""
    session = Sessions().get(g.session_id)
    if session is None:
        return False
    # created_at is the login itself: refreshing the tokens does not restart the clock.
    age = (now() - as_utc(session["created_at"])).total_seconds()
    return age < current_app.config["REAUTH_WINDOW"]
