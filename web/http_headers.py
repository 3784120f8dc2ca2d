"""Headers on every response: security headers, Cache-Control, no Server header, and CORS.

A view that sets its own ``Content-Security-Policy`` or ``Cache-Control`` keeps it: the cover route
keeps its long-lived caching, and an HTML page (the API docs) sends a policy that lets it load its
own scripts and styles. Every other response, errors included, gets the restrictive defaults below.
CORS is off unless CORS_ORIGINS lists origins; then Flask-CORS answers those origins, and only them.
"""

from __future__ import annotations

from flask import Flask, Response
from flask_cors import CORS

EXTENSION_KEY = "http_headers"

# Nothing in a JSON or plain-text answer may load or frame anything.
DEFAULT_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
DEFAULT_CACHE_CONTROL = "no-store"
# Set on every response, whatever the view said.
FORCED_HEADERS = {"X-Content-Type-Options": "nosniff"}
# Set on every response whose view did not choose its own value.
DEFAULT_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": DEFAULT_CONTENT_SECURITY_POLICY,
    "Cache-Control": DEFAULT_CACHE_CONTROL,
}

CORS_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")
CORS_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
)
CORS_EXPOSE_HEADERS = ("ETag", "Link", "Location", "Retry-After", "X-Request-ID", "X-Total-Count")
CORS_MAX_AGE_SECONDS = 600


def init_http_headers(app: Flask) -> None:
    """Add the security headers to every response and, if CORS_ORIGINS is set, enable CORS."""
    # Checked and normalised by config.load_settings.
    origins = tuple(app.config.get("CORS_ORIGINS") or ())
    app.extensions[EXTENSION_KEY] = {"cors_origins": origins}
    app.after_request(add_security_headers)
    if not origins:
        return
    # Registered before Flask-CORS, so it runs after it (after_request runs in reverse order).
    app.after_request(vary_on_origin)
    CORS(
        app,
        resources=r"/*",
        origins=list(origins),
        methods=list(CORS_METHODS),
        allow_headers=list(CORS_ALLOW_HEADERS),
        expose_headers=list(CORS_EXPOSE_HEADERS),
        max_age=CORS_MAX_AGE_SECONDS,
        # Tokens travel in Authorization, never in cookies.
        supports_credentials=False,
        send_wildcard=False,
        # Without an Origin header there is nothing to allow: send no Access-Control-* at all.
        always_send=False,
        allow_private_network=False,
        # Errors are answered by the app's handlers, whose responses pass through after_request.
        intercept_exceptions=False,
    )


def add_security_headers(response: Response) -> Response:
    """Add nosniff, the referrer, framing, content and caching policies; drop any Server header."""
    headers = response.headers
    # One pass over the headers: Werkzeug answers each `name in headers` miss by raising and
    # catching an exception, once per default header on every response.
    chosen = {name.lower() for name, _ in headers.items()}
    for name, value in FORCED_HEADERS.items():
        headers[name] = value
    for name, value in DEFAULT_HEADERS.items():
        if name.lower() not in chosen:
            # Known absent: appended, without `headers[name] =`'s search for one to replace.
            headers.add(name, value)
    if "server" in chosen:
        # gunicorn writes its own (versionless) Server header: a second one would only add noise.
        del headers["Server"]
    return response


def vary_on_origin(response: Response) -> Response:
    """Tell caches that answers differ by Origin, so a cached cover keeps its CORS headers."""
    response.vary.add("Origin")
    return response
