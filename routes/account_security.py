"""Account security routes: two-factor set-up, password reset by email, email verification."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from auth.email_links import RESET, VERIFY, public_base_url, send_reset_link
from auth.sessions import Sessions
from auth.step_up import confirm_password
from auth.two_factor import (
    decrypt_secret,
    encrypt_secret,
    matching_step,
    new_recovery_codes,
    new_secret,
    provisioning_uri,
    qr_code,
    recovery_code_digest,
    verify_second_factor,
)
from auth_middleware import password_required
from models import User
from store.email_tokens import EmailTokens
from store.two_factor_records import TwoFactorRecords
from validate import (
    EMAIL_LINK_QUERY,
    EMAIL_VERIFICATION,
    PASSWORD_CONFIRMATION,
    PASSWORD_FORGOT,
    PASSWORD_RESET,
    TWO_FACTOR_DISABLE,
    TWO_FACTOR_ENABLE,
    normalise_email,
)
from web import mailer
from web.ratelimit import limit_email
from web.request_body import accepts, json_body, valid_json
from web.responses import ApiError, success_response

account_security = Blueprint("account_security", __name__)

BAD_TOKEN = "this link is invalid, was already used or has expired"


def invalid(field: str, message: str) -> ApiError:
    """Return a 400 naming one field."""
    return ApiError(400, "Invalid data", {field: message})


def two_factor_state(user_id: str, enabled: bool) -> tuple[TwoFactorRecords, dict[str, Any]]:
    """Return the user's two-factor records and state, or 409 unless two-factor is as expected."""
    records = TwoFactorRecords()
    state = records.state(user_id)
    if bool(state.get("totp_enabled")) != enabled:
        message = "not enabled" if enabled else "already enabled"
        raise ApiError(409, f"Two-factor authentication is {message}", "Conflict")
    return records, state


# Two-factor authentication -----------------------------------------------------------------------


@account_security.route("/users/2fa/setup", methods=["POST"])
@password_required(PASSWORD_CONFIRMATION)
def setup_two_factor(current_user: dict[str, Any]) -> Response:
    """Start two-factor set-up (needs the password): a new secret, its URI and a QR code."""
    data = json_body("Please provide your current password")
    records, _ = two_factor_state(current_user["_id"], enabled=False)
    confirm_password(current_user["_id"], data)
    secret = new_secret()
    records.set_pending(current_user["_id"], encrypt_secret(secret))
    uri = provisioning_uri(secret, current_user["email"])
    data = {"secret": secret, "otpauth_uri": uri, "qr_code": qr_code(uri)}
    return success_response("Scan the QR code, then confirm with a code from the app", data)


@account_security.route("/users/2fa/enable", methods=["POST"])
@password_required(TWO_FACTOR_ENABLE)
def enable_two_factor(current_user: dict[str, Any]) -> Response:
    """Turn two-factor on with the password and a first code; answer ten recovery codes, once."""
    data = json_body("Please provide your current password and the code from your app")
    records, state = two_factor_state(current_user["_id"], enabled=False)
    sealed = state.get("totp_pending")
    secret = decrypt_secret(sealed) if sealed else None
    if sealed is None or secret is None:
        raise ApiError(409, "Start with POST /users/2fa/setup", "Conflict")
    confirm_password(current_user["_id"], data)
    step = matching_step(secret, data.get("otp"))
    if step is None:
        raise invalid("otp", "the code is not valid: enter the 6 digits the app shows now")
    codes = new_recovery_codes()
    digests = [recovery_code_digest(code) for code in codes]
    if not records.enable(current_user["_id"], sealed, step, digests):
        raise ApiError(409, "Two-factor set-up changed meanwhile: start again", "Conflict")
    return success_response(
        "Two-factor authentication enabled: keep these recovery codes somewhere safe",
        {"recovery_codes": codes},
    )


@account_security.route("/users/2fa/disable", methods=["POST"])
@password_required(TWO_FACTOR_DISABLE)
def disable_two_factor(current_user: dict[str, Any]) -> Response:
    """Turn two-factor off: needs the password and a current code (or a recovery code).

    A recovery code stands in for the app's code, so a lost phone cannot keep two-factor on.
    """
    data = json_body("Please provide your password and a code")
    records, state = two_factor_state(current_user["_id"], enabled=True)
    confirm_password(current_user["_id"], data)
    if not verify_second_factor(current_user["_id"], state, data.get("otp")):
        raise invalid("otp", "the code is not valid or was already used")
    records.disable(current_user["_id"])
    return success_response("Two-factor authentication disabled", current_user)


# Password reset ----------------------------------------------------------------------------------


@account_security.route("/users/password/forgot", methods=["POST"])
@accepts(PASSWORD_FORGOT)
@limit_email
def forgot_password() -> Response:
    """Email a reset link if the account exists; the answer is the same either way."""
    data = valid_json("Please provide your email address")
    mailer.run_in_background(send_reset_link, normalise_email(data["email"]), public_base_url())
    return success_response(
        "If an account exists for this email, a password reset link is on its way", None, 202
    )


@account_security.route("/users/password/reset", methods=["POST"])
@accepts(PASSWORD_RESET)
@limit_email
def reset_password() -> Response:
    """Set a new password with an emailed token; every session of the account ends."""
    data = valid_json("Please provide the reset token and a new password")
    user_id = EmailTokens().consume(data.get("token"), RESET)
    if user_id is None or User().get_by_id(user_id) is None:
        raise invalid("token", BAD_TOKEN)
    users = User()
    users.set_password(user_id, data["new_password"])
    users.mark_email_verified(user_id)
    EmailTokens().revoke_all(user_id, RESET)
    Sessions().revoke_all(user_id)
    return success_response("Your password has been reset: log in with the new one", None)


# Email verification ------------------------------------------------------------------------------


@account_security.route("/users/verify", methods=["GET"])
@accepts(EMAIL_LINK_QUERY)
def explain_verification() -> Response:
    """Say how to confirm, and spend nothing: mail scanners and previews follow links too."""
    return success_response(
        "Confirm your email address: POST this token to /users/verify, "
        "or open the link in the web app",
        None,
    )


@account_security.route("/users/verify", methods=["POST"])
@accepts(EMAIL_VERIFICATION)
def verify_email() -> Response:
    """Confirm the email address with the token from the welcome email (POST {"token"})."""
    token = json_body("Please provide the token from the email").get("token")
    user_id = EmailTokens().consume(token, VERIFY)
    if user_id is None:
        raise invalid("token", BAD_TOKEN)
    User().mark_email_verified(user_id)
    return success_response("Your email address is verified: you can log in", None)
