"""The description of two-factor set-up, password reset and email verification."""

from __future__ import annotations

from typing import Any

from api_docs.build import LIMITED_JSON_WRITE, json_body, refs, success, user_answer

OPERATIONS: dict[str, dict[str, Any]] = {
    "account_security.setup_two_factor": {
        "tags": ["account security"],
        "operationId": "setUpTwoFactor",
        "summary": "Start turning two-factor authentication on",
        "description": "Answers a new TOTP secret, its "
        "`otpauth://` URI and the URI as a QR "
        "code (an SVG `data:`\n"
        "URI made by the server) to scan with an "
        "authenticator app. Nothing changes at "
        "login until\n"
        "`POST /users/2fa/enable` confirms a "
        "first code. Needs the current password, "
        "so that a\n"
        "stolen access token cannot enrol the "
        "thief's app; wrong ones are rate "
        "limited per account,\n"
        "and a refusal stores nothing.\n",
        "requestBody": json_body({"password": "Analytical-Engine-1843"}),
        "responses": {
            "200": success(
                "The secret to add to an authenticator app.",
                "TwoFactorSetupEnvelope",
                {
                    "message": "Scan the QR code, then confirm with a code from the app",
                    "data": {
                        "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                        "otpauth_uri": "otpauth://totp/Book%20Library:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Book%20Library",
                        "qr_code": "data:image/svg+xml;charset=utf-8,...",
                    },
                },
            ),
            **refs("BadAccountSecurityRequest", "TwoFactorConflict", *LIMITED_JSON_WRITE),
        },
    },
    "account_security.enable_two_factor": {
        "tags": ["account security"],
        "operationId": "enableTwoFactor",
        "summary": "Turn two-factor authentication on",
        "description": "Confirms the set-up with the current "
        "password and a current code from the "
        "app, and answers\n"
        "ten single-use recovery codes, shown "
        "this once. From then on login needs "
        "`otp`. Wrong\n"
        "passwords and codes are rate limited "
        "per account.\n",
        "requestBody": json_body({"password": "Analytical-Engine-1843", "otp": "123456"}),
        "responses": {
            "200": success(
                "Two-factor authentication is on.",
                "RecoveryCodesEnvelope",
                {
                    "message": "Two-factor authentication enabled: keep these recovery codes "
                    "somewhere safe",
                    "data": {"recovery_codes": ["abcd-efgh-jkmn-pqrs", "tuvw-xyz2-3456-789a"]},
                },
            ),
            **refs("BadAccountSecurityRequest", "TwoFactorConflict", *LIMITED_JSON_WRITE),
        },
    },
    "account_security.disable_two_factor": {
        "tags": ["account security"],
        "operationId": "disableTwoFactor",
        "summary": "Turn two-factor authentication off",
        "description": "Needs the password and a current code "
        "(or an unused recovery code). Wrong "
        "ones are rate\n"
        "limited per account.\n",
        "requestBody": json_body({"password": "Analytical-Engine-1843", "otp": "123456"}),
        "responses": {
            "200": user_answer(
                "Two-factor authentication is off.", "Two-factor authentication disabled"
            ),
            **refs("BadAccountSecurityRequest", "TwoFactorConflict", *LIMITED_JSON_WRITE),
        },
    },
    "account_security.forgot_password": {
        "tags": ["account security"],
        "operationId": "forgotPassword",
        "summary": "Email a password reset link",
        "description": "The answer is the same, in the same "
        "time, whether an account has this email "
        "or not; the\n"
        "link (valid 30 minutes by default) is "
        "mailed afterwards if one does. Rate "
        "limited per\n"
        "client address and per email.\n",
        "requestBody": json_body({"email": "ada@example.com"}),
        "responses": {
            "202": success(
                "Accepted; a link is on its way if the account exists.",
                "NoDataEnvelope",
                {
                    "message": "If an account exists for this email, a password reset link is "
                    "on its way",
                    "data": None,
                },
            ),
            **refs("BadAccountSecurityRequest", *LIMITED_JSON_WRITE),
        },
    },
    "account_security.reset_password": {
        "tags": ["account security"],
        "operationId": "resetPassword",
        "summary": "Set a new password with an emailed reset token",
        "description": "The token works once. Every session of "
        "the account ends, and the email address "
        "counts as\n"
        "verified. Rate limited per client "
        "address.\n",
        "requestBody": json_body(
            {
                "token": "Zm9vLWJhci1iYXotcXV4LWZvby1iYXItYmF6LXF1eC0x",
                "new_password": "Difference-Engine-1822",
            }
        ),
        "responses": {
            "200": success(
                "The password is reset; log in with the new one.",
                "NoDataEnvelope",
                {
                    "message": "Your password has been reset: log in with the new one",
                    "data": None,
                },
            ),
            **refs("BadAccountSecurityRequest", *LIMITED_JSON_WRITE),
        },
    },
    "account_security.explain_verification": {
        "tags": ["account security"],
        "operationId": "explainEmailVerification",
        "summary": "Say how to verify an email address (changes nothing)",
        "description": "Older welcome emails linked here. A "
        "GET never spends the token, because "
        "mail scanners and\n"
        "link previews follow links: it only "
        "says how to confirm (`POST "
        "/users/verify`, or the web\n"
        "app's `ui/#verify?token=...` page, "
        "which new emails link to).\n",
        "responses": {
            "200": success(
                "How to confirm; nothing changed.",
                "NoDataEnvelope",
                {
                    "message": "Confirm your email address: POST this token to /users/verify, "
                    "or open the link in the web app",
                    "data": None,
                },
            ),
            **refs("ServiceUnavailable"),
        },
    },
    "account_security.verify_email": {
        "tags": ["account security"],
        "operationId": "verifyEmail",
        "summary": "Verify an email address (the token as JSON)",
        "description": "Spends the token of the welcome email "
        "(once) and marks the address verified.",
        "requestBody": json_body({"token": "Zm9vLWJhci1iYXotcXV4LWZvby1iYXItYmF6LXF1eC0x"}),
        "responses": {
            **refs(
                "EmailVerified",
                "BadAccountSecurityRequest",
                "PayloadTooLarge",
                "UnsupportedMediaType",
                "ServiceUnavailable",
            ),
        },
    },
}
