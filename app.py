"""The application factory: settings, storage, error handling, request ids and blueprints."""

from __future__ import annotations

import io
import logging
import os
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, cast

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import SessionInterface
from pymongo.errors import ConnectionFailure, PyMongoError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from config import instance_secret_key, load_settings
from routes.account_security import account_security
from routes.books import books
from routes.docs import docs
from routes.health import health
from routes.passkeys import passkeys
from routes.ui import ui
from routes.users import users
from store import database
from store.cover_storage import CoverStorageError, covers_command, sweep_temporary_files
from store.embedded_server import PRIVATE_UMASK, embedded_database_url
from web.http_headers import init_http_headers
from web.logs import init_logging
from web.ratelimit import init_rate_limits
from web.responses import ApiError, error_response

logger = logging.getLogger(__name__)

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")


class InMemoryUploadRequest(Request):
    """Flask's request, keeping uploaded files in memory rather than in temporary files."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        """Return the buffer an uploaded file is parsed into."""
        # Werkzeug spools a file over 500 KB to disk, only for a cover to be read back whole.
        # MAX_CONTENT_LENGTH bounds the whole body, streamed ones too, and so this memory.
        return io.BytesIO()

    @cached_property
    def stream(self) -> IO[bytes]:
        """Return the body stream; a streamed (chunked) body over the limit raises 413."""
        limit = self.max_content_length
        if self.content_length is None and "wsgi.input_terminated" in self.environ and limit:
            # Werkzeug's own limit stops reading at the limit without raising, so a chunked
            # body one byte too long was parsed cut short (a 400); this reads one byte more.
            return cast(IO[bytes], StreamedBodyLimit(self.environ["wsgi.input"], limit))
        return super().stream


class StreamedBodyLimit(LimitedStream):
    """A body stream of unknown length that raises 413 once it is longer than its limit."""

    def __init__(self, stream: IO[bytes], maximum: int) -> None:
        """Wrap the server's stream, allowing one byte past the maximum to detect an excess."""
        super().__init__(stream, maximum + 1, is_max=True)
        self.maximum = maximum

    def readinto(self, buffer: Any) -> int | None:
        """Read like LimitedStream, raising 413 as soon as the body passes the maximum."""
        size = super().readinto(buffer)
        if self.tell() > self.maximum:
            raise RequestEntityTooLarge()
        return size


class NoCookieSession(SessionInterface):
    """No Flask session at all: clients authenticate with a bearer token on every request."""

    def open_session(self, app: Flask, request: Request) -> None:
        """Open nothing (Flask then hands views its read-only null session)."""
        # Flask's cookie session would build a signing serializer on every request for
        # nothing: no view reads or writes flask.session (the web UI is static files).
        return None

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Write no cookie."""
        return None


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, .env and explicit overrides."""
    settings = load_settings(config)
    make_instance_folder_private(settings["INSTANCE_PATH"])
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.request_class = InMemoryUploadRequest
    app.session_interface = NoCookieSession()
    # /books and /books/ both answer, and //books/ is a 404: Werkzeug's redirects would be HTML.
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False
    app.config.update(settings)
    # First of all hooks: nothing (rate limits, logs) may act on a request for a foreign host.
    app.before_request(reject_untrusted_host)
    init_logging(app)
    init_http_headers(app)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    app.config["EMBEDDED_DATABASE"] = not app.config["DATABASE_URL"]
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = embedded_database_url(app.instance_path)
    app.config.setdefault("COVER_DIR", str(Path(app.instance_path) / "covers"))
    database.init_app(app)
    register_error_handlers(app)
    app.before_request(assign_request_id)
    app.after_request(add_request_id_header)
    app.after_request(answer_options_with_no_content)
    app.add_url_rule("/", view_func=hello)
    app.register_blueprint(users)
    app.register_blueprint(account_security)
    app.register_blueprint(passkeys)
    app.register_blueprint(books)
    app.register_blueprint(docs)
    app.register_blueprint(ui)
    app.register_blueprint(health)
    init_rate_limits(app)
    app.cli.add_command(covers_command)
    sweep_leftovers(app)
    return app


def sweep_leftovers(app: Flask) -> None:
    """Remove temporary cover files that killed uploads left; warn about per-instance covers."""
    if app.config["COVER_STORAGE"] == "local" and not app.config["EMBEDDED_DATABASE"]:
        logger.warning(
            "COVER_STORAGE=local with a shared DATABASE_URL: each instance keeps its own covers "
            "and serves only those; with several instances use COVER_STORAGE=gridfs"
        )
    with app.app_context():
        try:
            removed = sweep_temporary_files()
        except (OSError, PyMongoError) as error:
            logger.warning("could not sweep cover leftovers at start: %s", type(error).__name__)
            return
        finally:
            # GridFS covers opened a client: like the one init_app used, it must not cross a fork.
            database.close_client(app)
    if removed:
        logger.info("removed %d cover leftovers of interrupted uploads", removed)


def make_instance_folder_private(instance_path: str) -> None:
    """Create the instance folder 0700, close up folders made before, and keep new files 0600.

    The umask is process-wide on purpose: mail and covers are written later, by any thread.
    """
    os.umask(PRIVATE_UMASK)
    folder = Path(instance_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path in (folder, *folder.iterdir()):
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o700)
    except OSError as error:
        # A deployment with SECRET_KEY, DATABASE_URL and GridFS covers may never write here.
        logger.warning("instance folder %s not made private: %s", folder, error.strerror)


# Errors ------------------------------------------------------------------------------------------


def register_error_handlers(app: Flask) -> None:
    """Answer every error, expected or not, with the JSON failure envelope."""
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(SecurityError, handle_untrusted_host)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(PyMongoError, handle_database_error)
    app.register_error_handler(CoverStorageError, handle_storage_error)
    app.register_error_handler(Exception, handle_unexpected_error)


def handle_api_error(error: ApiError) -> Response:
    """Turn an ApiError into its envelope."""
    return error_response(error.status, error.message, error.error, error.headers)


HTTP_MESSAGES = {
    404: "Endpoint Not Found",
    405: "Method Not Allowed",
    413: "Request body is too large",
    415: "Unsupported Media Type",
}


def handle_http_exception(error: HTTPException) -> Response:
    """Turn a Werkzeug HTTP error (404, 405, 413 ...) into the envelope, keeping its headers."""
    status = error.code or 500
    message = HTTP_MESSAGES.get(status, error.name)
    if status == 413:
        message = too_large_message(error)
    headers = {}
    allowed = getattr(error, "valid_methods", None)
    if status == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
    return error_response(status, message, None, headers)


def reject_untrusted_host() -> None:
    """Refuse a request whose Host header is not in TRUSTED_HOSTS, before anything acts on it."""
    # Flask checks the Host when it binds the URL adapter but raises only at dispatch, after
    # the before_request hooks: raise it here instead.
    if isinstance(request.routing_exception, SecurityError):
        raise request.routing_exception


def handle_untrusted_host(error: SecurityError) -> Response:
    """Answer a Host header outside TRUSTED_HOSTS with a 400 (links are built from it)."""
    return error_response(400, "Unknown Host header", "Bad Request")


def too_large_message(error: HTTPException) -> str:
    """Say which limit a 413 is about: the number of form fields, one field, or the body."""
    # Werkzeug raises one bare RequestEntityTooLarge for all three; where it was raised
    # (the multipart decoder counting parts, or measuring a field) tells them apart.
    traceback, raised_in = error.__traceback__, None
    while traceback is not None:
        raised_in, traceback = traceback.tb_frame.f_code, traceback.tb_next
    place = (Path(raised_in.co_filename).name, raised_in.co_name) if raised_in else None
    if place == ("multipart.py", "next_event"):
        return f"Too many form fields: at most {request.max_form_parts} are accepted"
    if place in (("multipart.py", "receive_data"), ("formparser.py", "parse")):
        return f"A form field is larger than {request.max_form_memory_size} bytes"
    return f"Request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes"


def handle_database_error(error: PyMongoError) -> Response:
    """Answer 503 when the database is unreachable or too slow, so clients know to retry."""
    if not isinstance(error, ConnectionFailure) and not error.timeout:
        return handle_unexpected_error(error)
    logger.error("request %s: database unavailable: %s", g.get("request_id"), type(error).__name__)
    return error_response(
        503, "The service is temporarily unavailable, try again shortly", None, {"Retry-After": "5"}
    )


def handle_storage_error(error: CoverStorageError) -> Response:
    """Answer 503 when covers cannot be written (disk full, read-only): nothing was stored."""
    return error_response(
        503, "Covers cannot be stored right now, try again later", None, {"Retry-After": "30"}
    )


def handle_unexpected_error(error: Exception) -> Response:
    """Log a bug with its request id and answer a generic 500."""
    logger.exception("request %s: unhandled error", g.get("request_id"), exc_info=error)
    return error_response(500, "Something went wrong", "Internal Server Error")


def assign_request_id() -> None:
    """Keep the client's X-Request-ID if it is sane, else make one, for logs and the response."""
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID_PATTERN.fullmatch(incoming) else uuid.uuid4().hex


def add_request_id_header(response: Response) -> Response:
    """Echo the request id so a client can quote it."""
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def answer_options_with_no_content(response: Response) -> Response:
    """Turn Flask's automatic OPTIONS answer (200, empty text/html) into a 204 with Allow."""
    if request.method == "OPTIONS" and response.status_code == 200 and not response.data:
        response.status_code = 204
        del response.headers["Content-Type"]
    return response


def hello() -> Response:
    """Answer the tutorial's greeting as plain text."""
    return Response("Hello World!", mimetype="text/plain")
