"""The answers many routes share: errors in the envelope, 204, 304."""

from __future__ import annotations

from typing import Any

RESPONSES: dict[str, Any] = {
    "NoContent": {"description": "Done; no body."},
    "NotModified": {
        "description": "The client's copy (named by `If-None-Match`) is still current; no body.",
        "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
    },
    "BadUserRequest": {
        "description": "The body is missing, malformed or not a JSON object "
        "(`Please provide user details` /\n"
        "`Bad request`), or validation failed (`Invalid data` / an "
        "object naming each failing field).\n",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "examples": {
                    "invalid": {
                        "summary": "Validation failed",
                        "value": {
                            "message": "Invalid data",
                            "data": None,
                            "error": {
                                "email": "email must be a valid address such as name@example.com"
                            },
                        },
                    },
                    "missing": {
                        "summary": "No JSON object",
                        "value": {
                            "message": "Please provide user details",
                            "data": None,
                            "error": "Bad request",
                        },
                    },
                },
            }
        },
    },
    "BadBookRequest": {
        "description": "Validation failed (`Invalid data` / an object naming each "
        "failing field, `isbn` included),\n"
        "there is no `cover_image` on create, the `Idempotency-Key` "
        "is malformed, or the cover is\n"
        "empty, corrupt or over the pixel limit.\n",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "examples": {
                    "invalid": {
                        "summary": "Validation failed",
                        "value": {
                            "message": "Invalid data",
                            "data": None,
                            "error": {
                                "category": "category "
                                "must "
                                "be "
                                "one "
                                "of: "
                                "romance, "
                                "poetry, "
                                "politics, "
                                "picture "
                                "book, "
                                "science, "
                                "fantasy, "
                                "horror, "
                                "thriller"
                            },
                        },
                    },
                    "noCover": {
                        "summary": "No cover on create",
                        "value": {
                            "message": "cover image is required",
                            "data": None,
                            "error": "Bad Request",
                        },
                    },
                    "corrupt": {
                        "summary": "A corrupt cover",
                        "value": {
                            "message": "cover image is corrupt or truncated",
                            "data": None,
                            "error": "Bad Request",
                        },
                    },
                },
            }
        },
    },
    "Unauthorized": {
        "description": "No token (`Authentication Token is missing!`), or a bad one: "
        "malformed, tampered, expired,\n"
        "revoked, or its user gone or disabled (`Invalid "
        "Authentication token!`).\n",
        "headers": {"WWW-Authenticate": {"$ref": "#/components/headers/WWW-Authenticate"}},
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "examples": {
                    "missing": {
                        "summary": "No token",
                        "value": {
                            "message": "Authentication Token is missing!",
                            "data": None,
                            "error": "Unauthorized",
                        },
                    },
                    "invalid": {
                        "summary": "A bad token",
                        "value": {
                            "message": "Invalid Authentication token!",
                            "data": None,
                            "error": "Unauthorized",
                        },
                    },
                },
            }
        },
    },
    "BadAccountSecurityRequest": {
        "description": "The body is missing, malformed or not a JSON "
        "object, or a field is invalid or wrong\n"
        "(`Invalid data` / an object naming it: `otp`, "
        "`password`, `email`, `new_password`, "
        "`token`).\n",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "examples": {
                    "invalid": {
                        "summary": "A field is invalid or wrong",
                        "value": {
                            "message": "Invalid data",
                            "data": None,
                            "error": {
                                "token": "this link is invalid, was already used or has expired"
                            },
                        },
                    },
                    "missing": {
                        "summary": "No JSON object",
                        "value": {
                            "message": "Please provide your email address",
                            "data": None,
                            "error": "Bad request",
                        },
                    },
                },
            }
        },
    },
    "TwoFactorConflict": {
        "description": "Two-factor authentication is already on (set-up, "
        "enable), not on (disable), or its set-up\n"
        "was not started or changed meanwhile.\n",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {
                    "message": "Two-factor authentication is already enabled",
                    "data": None,
                    "error": "Conflict",
                },
            }
        },
    },
    "EmailVerified": {
        "description": "The email address is verified.",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/NoDataEnvelope"},
                "example": {
                    "message": "Your email address is verified: you can log in",
                    "data": None,
                },
            }
        },
    },
    "BookNotFound": {
        "description": "The id is malformed, unknown, or another user's book.",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {"message": "Book not found", "data": None, "error": "Not Found"},
            }
        },
    },
    "EndpointNotFound": {
        "description": "Nothing is served at this URL.",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {"message": "Endpoint Not Found", "data": None, "error": "Not Found"},
            }
        },
    },
    "BookConflict": {
        "description": "The caller already has a book with this title (ignoring case "
        "and spaces) or this ISBN; or a\n"
        "request with the same `Idempotency-Key` is still running "
        "(then with `Retry-After`), or the\n"
        "book it created was deleted since.\n",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying, "
                "when the same `Idempotency-Key` "
                "is still in use.",
                "required": False,
                "schema": {"type": "integer", "minimum": 1},
            }
        },
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {
                    "message": "A book with this title is already on your shelf",
                    "data": None,
                    "error": "Conflict",
                },
            }
        },
    },
    "MethodNotAllowed": {
        "description": "The route exists but not with this method (any route, "
        "any undocumented method).",
        "headers": {"Allow": {"$ref": "#/components/headers/Allow"}},
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {
                    "message": "Method Not Allowed",
                    "data": None,
                    "error": "Method Not Allowed",
                },
            }
        },
    },
    "PayloadTooLarge": {
        "description": "The request body is over the size limit (5 MiB by "
        "default), or the cover image would need more than "
        "`COVER_MAX_DECODE_BYTES` (64 MiB by default) of memory to "
        "decode; `error.cover_image` then says how much.",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {
                    "message": "Request body is larger than 5242880 bytes",
                    "data": None,
                    "error": "Request Entity Too Large",
                },
            }
        },
    },
    "UnsupportedMediaType": {
        "description": "The body's content type is not `application/json`.",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {
                    "message": "Content-Type must be application/json",
                    "data": None,
                    "error": "Unsupported Media Type",
                },
            }
        },
    },
    "UnsupportedCover": {
        "description": "The body is not a form (`Content-Type must be "
        "multipart/form-data`), or the cover is not a\n"
        "JPEG, PNG, GIF or WebP image.\n",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {
                    "message": "cover image must be a JPEG, PNG, GIF or WebP image",
                    "data": None,
                    "error": "Unsupported Media Type",
                },
            }
        },
    },
    "TooManyRequests": {
        "description": "Too many attempts; try again after `Retry-After` seconds.",
        "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {
                    "message": "Too many requests, try again in 42 seconds",
                    "data": None,
                    "error": "Too Many Requests",
                },
            }
        },
    },
    "ServiceUnavailable": {
        "description": "The database cannot be reached; try again after `Retry-After` seconds.",
        "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {
                    "message": "The service is temporarily unavailable, try again shortly",
                    "data": None,
                    "error": "Service Unavailable",
                },
            }
        },
    },
    "NotReady": {
        "description": "The database does not answer, or refused an essential index (the "
        "message names it); this instance should get no traffic for now.",
        "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {
                    "message": "database unreachable",
                    "data": None,
                    "error": "Service Unavailable",
                },
            }
        },
    },
    "InternalServerError": {
        "description": "An unexpected error (a bug); it is logged with the request id.",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {
                    "message": "Something went wrong",
                    "data": None,
                    "error": "Internal Server Error",
                },
            }
        },
    },
}
