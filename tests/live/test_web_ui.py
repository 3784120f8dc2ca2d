"""The web front end at /ui/: its page and policy, and the whole journey in headless Chromium.

The journey (clients/web/journey.mjs, Playwright driving Debian's Chromium) runs against `make
run`'s own command on an instance folder of its own, with rate limits off and access tokens that
live 10 seconds, so the page's silent refresh is used throughout, then visits every screen at 320
and 390 px with a 60-character email and a 100-character unbroken title (no sideways scrolling,
axe-core on each, the dark theme at 320). Passkeys are added, used and removed through Chromium's
virtual authenticator (the DevTools protocol's WebAuthn domain). It saves screenshots at desktop
and phone sizes in a temporary folder: tests never rewrite tracked files. `make screenshots` sets
UPDATE_SCREENSHOTS=1, and only then a passing run copies them to clients/web/screenshots/, which
the README shows. CHROMIUM names the browser (default /usr/bin/chromium, as in the Makefile).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from config import PROJECT_ROOT
from store.embedded_server import stop_embedded_server
from tests.live.server import LiveServer
from validate import CATEGORIES

CLIENT_DIR = PROJECT_ROOT / "clients" / "web"
SCREENSHOT_DIR = CLIENT_DIR / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
SCREENS = (
    "login",
    "signup-errors",
    "book-new",
    "shelf",
    "book-page",
    "book-edit-conflict",
    "delete-confirm",
    "account",
    "sessions",
    "two-factor-setup",
    "two-factor-codes",
    "login-code",
    "passkeys",
    "forgot",
    "reset",
)
JOURNEY_TIMEOUT_SECONDS = 480
mongomock_only = pytest.mark.parametrize("backend", ["mongomock"], indirect=True)


def png_size(path: Path) -> tuple[int, int]:
    """Return the width and height written in a PNG file's header."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@mongomock_only
def test_ui_page_is_served_with_its_own_policy(client):
    response = client.get("/ui/", buffered=True)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b'<script type="module" src="js/app.js"></script>' in response.data
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "img-src 'self' data:" in policy
    assert "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["Cache-Control"] == "no-cache"


@mongomock_only
def test_ui_without_its_slash_redirects_to_the_page(client):
    response = client.get("/ui")

    assert response.status_code == 308
    assert response.headers["Location"].endswith("/ui/")


@mongomock_only
def test_ui_assets_are_served_and_anything_else_is_a_json_404(client):
    script = client.get("/ui/js/app.js", buffered=True)
    missing = client.get("/ui/js/missing.js")
    outside = client.get("/ui/../app.py")

    assert script.status_code == 200
    assert script.mimetype == "text/javascript"
    not_found = {"message": "Endpoint Not Found", "data": None, "error": "Not Found"}
    assert missing.status_code == 404
    assert missing.json == not_found
    assert outside.status_code == 404
    assert outside.json == not_found


def test_page_reads_the_categories_from_the_api_description_and_keeps_no_copy():
    """The page's category lists come from /openapi.json (validate.py's list), not a JS copy."""
    modules = {
        module.name: module.read_text()
        for module in (PROJECT_ROOT / "static" / "ui" / "js").rglob("*.js")
    }

    assert 'new URL("openapi.json", API_ROOT)' in modules["spec.js"]
    assert "components?.schemas?.Category?.enum" in modules["spec.js"]
    assert "await loadCategories();" in modules["app.js"]
    for name, text in modules.items():
        assert "CATEGORIES" not in text, name
        quoted = {f'"{category}"' for category in CATEGORIES} & set(re.findall(r'"[^"]*"', text))
        # One may be quoted as an example (messages.js: "picture book" -> "Picture book").
        assert len(quoted) <= 1, (name, quoted)


@mongomock_only
def test_the_api_description_publishes_the_validated_categories_in_order(client):
    response = client.get("/openapi.json")

    assert response.status_code == 200
    assert response.json["components"]["schemas"]["Category"]["enum"] == list(CATEGORIES)


@mongomock_only
def test_theme_script_is_a_classic_script_loaded_before_the_styles_apply(client):
    response = client.get("/ui/", buffered=True)
    script = client.get("/ui/js/theme.js", buffered=True)

    assert response.status_code == 200
    head = response.data.split(b"</head>", 1)[0]
    # In <head>, not a module and not deferred: it sets the theme before the first paint.
    assert b'<script src="js/theme.js"></script>' in head
    assert b'<meta name="color-scheme" content="light dark">' in head
    assert script.status_code == 200
    assert script.mimetype == "text/javascript"
    assert b"prefers-color-scheme: dark" in script.data
    assert b"localStorage" in script.data


@pytest.mark.integration
def test_whole_journey_in_chromium_at_desktop_and_phone_sizes(tmp_path):
    node = shutil.which("node")
    assert node, "Node.js is missing: `make test` installs what the browser tests need"
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make browser` (or set CHROMIUM=/path)"
    assert (CLIENT_DIR / "node_modules" / "playwright-core").is_dir(), "run `make browser`"
    shots_dir = tmp_path / "screenshots"
    server = LiveServer(tmp_path / "instance", keep_output=True, ACCESS_TOKEN_TTL="10")
    # Passkeys: the relying party is a host name, never an IP literal, so the page is opened at
    # localhost (a secure context too), the origin the server's passkey settings name.
    base_url = f"http://localhost:{server.port}"
    server.settings.update(WEBAUTHN_RP_ID="localhost", WEBAUTHN_ORIGINS=base_url)
    server.start()
    try:
        result = subprocess.run(
            [node, "journey.mjs"],
            cwd=CLIENT_DIR,
            env={
                **os.environ,
                "BASE_URL": base_url,
                "CHROMIUM": str(CHROMIUM),
                "SCREENSHOT_DIR": str(shots_dir),
                # No SMTP_HOST: the server writes its emails here, where the journey reads the
                # password reset link.
                "MAIL_DIR": str(server.instance / "mail"),
            },
            capture_output=True,
            text=True,
            timeout=JOURNEY_TIMEOUT_SECONDS,
        )
    finally:
        server.stop()
        stop_embedded_server(server.instance)

    server_log = server.stderr_path.read_text(errors="replace") if server.stderr_path else ""
    assert result.returncode == 0, "\n".join(
        [result.stdout[-4000:], result.stderr[-4000:], "server log:", server_log[-3000:]]
    )
    assert "journey passed at every size" in result.stdout
    for size, dimensions in SIZES.items():
        shots = sorted(shots_dir.glob(f"{size}-*.png"))
        assert [shot.stem.split("-", 2)[2] for shot in shots] == list(SCREENS)
        assert {png_size(shot) for shot in shots} == {dimensions}
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        replace_committed_screenshots(shots_dir)


def replace_committed_screenshots(shots_dir: Path) -> None:
    """Replace the README's screenshots with a passing run's (`make screenshots` only)."""
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    for old in SCREENSHOT_DIR.glob("*.png"):
        old.unlink()
    for shot in shots_dir.glob("*.png"):
        shutil.copy(shot, SCREENSHOT_DIR / shot.name)
