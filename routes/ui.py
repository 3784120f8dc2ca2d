"""The web front end: one page at /ui/ and its own scripts, styles and icon from static/ui/."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request, send_from_directory, url_for
from werkzeug.wrappers import Response as BaseResponse

ui = Blueprint("ui", __name__)

UI_DIR = Path(__file__).resolve().parent.parent / "static" / "ui"
INDEX = "index.html"


def ui_content_security_policy() -> str:
    """Return the page's policy: scripts, styles, images and API calls from this origin only.

    Covers are served by this app too; if PUBLIC_URL names another origin, covers come from there.
    The two-factor QR code is a data: image.
    """
    # data: is allowed for images only, for the two-factor QR code: POST /users/2fa/setup answers it
    # as an SVG data: URI. An SVG shown through <img> runs no script and loads nothing, and the page
    # itself never builds a data: URI from user input, so this opens no path for script or styles.
    image_sources = ["'self'", "data:"]
    public_url = current_app.config.get("PUBLIC_URL")
    if public_url:
        parts = urlsplit(public_url)
        image_sources.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {' '.join(image_sources)}",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


@ui.route("/ui/", methods=["GET"])
def index() -> BaseResponse:
    """Serve the single page (at /ui/, so its relative links resolve under /ui/)."""
    if not request.path.endswith("/"):
        return with_ui_headers(redirect(url_for("ui.index"), code=308))
    return with_ui_headers(send_from_directory(UI_DIR, INDEX))


@ui.route("/ui/<path:asset>", methods=["GET"])
def asset(asset: str) -> BaseResponse:
    """Serve one of the page's files; anything outside static/ui/ or missing is a JSON 404."""
    return with_ui_headers(send_from_directory(UI_DIR, asset))


def with_ui_headers(response: BaseResponse) -> BaseResponse:
    """Give a front-end response its own policy, and let browsers revalidate it by ETag."""
    response.headers["Content-Security-Policy"] = ui_content_security_policy()
    response.headers["Cache-Control"] = "no-cache"
    return response
