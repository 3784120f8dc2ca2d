"""Health checks for load balancers and orchestrators: /health (alive) and /ready (database up).

Neither needs a token, and no rate limit applies to them.
"""

from __future__ import annotations

import logging

import pymongo
from flask import Blueprint, Response, current_app
from pymongo.errors import PyMongoError

from store import database
from web.responses import error_response, success_response

logger = logging.getLogger(__name__)

health = Blueprint("health", __name__)

RETRY_AFTER_SECONDS = 5


@health.route("/health", methods=["GET"])
def health_check() -> Response:
    """Answer at once that the process is alive, without touching the database."""
    return success_response("ok", {"status": "ok"})


@health.route("/ready", methods=["GET"])
def readiness_check() -> Response:
    """Answer 200 if the database answers a ping within READY_TIMEOUT_MS, else 503.

    data.degraded names housekeeping indexes the database refused (their clean-up is lost,
    nothing else); a refused essential (unique) index is a 503.
    """
    if not database_answers(current_app.config["READY_TIMEOUT_MS"] / 1000):
        return error_response(
            503,
            "database unreachable",
            "Service Unavailable",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    degraded, missing = database.index_problems()
    if missing:
        # Uniqueness is not enforced: take this instance out of rotation until an operator acts.
        return error_response(
            503,
            "database refused required indexes: " + ", ".join(missing),
            "Service Unavailable",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return success_response("ready", {"status": "ready", "database": "ok", "degraded": degraded})


def database_answers(timeout_seconds: float) -> bool:
    """Tell whether the database answers a ping within timeout_seconds.

    The whole check (server selection, connecting, the ping) runs under PyMongo's client-side
    timeout, so it never waits the longer DB_TIMEOUT_MS the app's client is built with.
    """
    try:
        with pymongo.timeout(timeout_seconds):
            database.get_client().admin.command("ping")
    except PyMongoError as error:
        logger.warning("readiness check: database unreachable (%s)", type(error).__name__)
        return False
    return True
