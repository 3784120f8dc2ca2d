"""The description of the book routes and the cover images."""

from __future__ import annotations

from typing import Any

from api_docs.build import (
    ETAG,
    book_example,
    error,
    invalid_query,
    path_parameter,
    ref,
    refs,
    success,
)


def cover_form(example: dict[str, Any]) -> dict[str, Any]:
    """Return the multipart form of a book with its cover: the image types taken, an example."""
    # The schema comes from the route's form (api_docs/document.py adds it).
    encoding = {"cover_image": {"contentType": "image/jpeg, image/png, image/gif, image/webp"}}
    return {"encoding": encoding, "example": example}


OPERATIONS: dict[str, dict[str, Any]] = {
    "books.add_book": {
        "tags": ["books"],
        "operationId": "createBook",
        "summary": "Put a new book on the caller's shelf",
        "description": "A multipart form, as in the tutorial. The cover is decoded "
        "from its bytes (never from the\n"
        "file name or the part's content type), thumbnailed to fit "
        "150x150 with every piece of\n"
        "metadata dropped, and stored under a name the server "
        "picks.\n"
        "\n"
        "With an `Idempotency-Key`, a retry of the same request "
        "answers the first result (201 with\n"
        "the same book) instead of creating a second book; the same "
        "key with a different request\n"
        "answers 422, and while the first request with that key is "
        "still running 409.\n",
        "parameters": [ref("parameters", "IdempotencyKey")],
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": cover_form(
                    {
                        "title": "Sketch of the Analytical Engine",
                        "description": "Notes by the translator",
                        "category": "science",
                        "isbn": "978-0-441-17271-9",
                        "cover_image": "(a JPEG, PNG, GIF or WebP file)",
                    }
                )
            },
        },
        "responses": {
            "201": {
                **success(
                    "The book was created (or, for a retried `Idempotency-Key`, the book it "
                    "created).",
                    "BookEnvelope",
                    {"message": "successfully created a new book", "data": book_example()},
                    ETAG,
                    pinned=True,
                ),
                "links": {
                    op: {"operationId": op, "parameters": {"book_id": "$response.body#/data/_id"}}
                    for op in ("getBook", "updateBook", "deleteBook")
                },
            },
            **refs("BadBookRequest", "BookConflict", "PayloadTooLarge", "UnsupportedCover"),
            "422": error(
                "This `Idempotency-Key` was already used for a different request.",
                "This Idempotency-Key was already used for a different request",
                "Unprocessable Entity",
            ),
            **refs("ServiceUnavailable"),
        },
    },
    "books.get_books": {
        "tags": ["books"],
        "operationId": "listBooks",
        "summary": "The caller's books, a page at a time",
        "description": "Only the caller's own books. The `Link` header points at "
        "the first, previous, next and last\n"
        "pages (those that exist) and `X-Total-Count` counts every "
        "match.\n",
        "responses": {
            "200": success(
                "A page of the caller's books.",
                "BookListEnvelope",
                {
                    "message": "successfully retrieved all books",
                    "data": [book_example()],
                    "pagination": {"page": 1, "per_page": 20, "total": 1, "pages": 1},
                },
                headers={
                    "X-Total-Count": ref("headers", "X-Total-Count"),
                    "Link": ref("headers", "Link"),
                },
            ),
            "400": invalid_query(
                "A query parameter is invalid; "
                "`error` names it (or the `Host` "
                "header is not a trusted host: "
                "`Unknown Host header`).",
                {"per_page": "per_page must be a whole number between 1 and 100"},
            ),
            **refs("ServiceUnavailable"),
        },
    },
    "books.get_book": {
        "tags": ["books"],
        "operationId": "getBook",
        "summary": "One of the caller's books",
        "description": "Answers an `ETag`; send it back in `If-None-Match` to get "
        "304 while the book is unchanged.",
        "parameters": [
            ref("parameters", "BookId"),
            ref("parameters", "IfNoneMatch"),
        ],
        "responses": {
            "200": success(
                "The book.",
                "BookEnvelope",
                {
                    "message": "successfully retrieved a book",
                    "data": book_example(),
                },
                headers=ETAG,
                pinned=True,
            ),
            **refs("NotModified", "BookNotFound", "ServiceUnavailable"),
        },
    },
    "books.update_book": {
        "tags": ["books"],
        "operationId": "updateBook",
        "summary": "Change any of a book's fields or its cover",
        "description": "Send any subset of the fields; a new `cover_image` file "
        "replaces the cover (the old file is\n"
        "deleted). A form with no field changes nothing and "
        "answers the book. Send the book's\n"
        "`ETag` in `If-Match` to update only if nobody changed "
        "it since you read it (412 if they\n"
        "did). Answers the new `ETag`.\n",
        "parameters": [
            ref("parameters", "BookId"),
            ref("parameters", "IfMatch"),
        ],
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": cover_form(
                    {
                        "category": "poetry",
                        "cover_image": "(a JPEG, PNG, GIF or WebP file)",
                    }
                ),
                "application/x-www-form-urlencoded": {
                    "example": {"title": "Notes on the Analytical Engine", "category": "science"}
                },
            },
        },
        "responses": {
            "200": success(
                "The updated book.",
                "BookEnvelope",
                {
                    "message": "successfully updated a book",
                    "data": book_example(),
                },
                headers=ETAG,
                pinned=True,
            ),
            **refs("BadBookRequest", "BookNotFound", "BookConflict"),
            "412": error(
                "`If-Match` names a version of the book that is no longer the current one.",
                "The book was changed since you read it",
                "Precondition Failed",
            ),
            **refs("PayloadTooLarge", "UnsupportedCover", "ServiceUnavailable"),
        },
    },
    "books.delete_book": {
        "tags": ["books"],
        "operationId": "deleteBook",
        "summary": "Delete one of the caller's books",
        "description": "The cover file is deleted too.",
        "responses": {
            "204": {"description": "The book is deleted."},
            **refs("BookNotFound", "ServiceUnavailable"),
        },
        "parameters": [ref("parameters", "BookId")],
    },
    "books.serve_cover": {
        "tags": ["covers"],
        "operationId": "getCover",
        "summary": "A cover thumbnail",
        "description": "The URL is a book's `image_url`. Public, cached for a "
        "year (the name changes whenever the\n"
        "cover does), with an `ETag`.\n",
        "parameters": [
            path_parameter(
                "name",
                "The stored cover's name, as in `image_url`.",
                {"type": "string", "examples": ["3f2a9c1e5b7d4f6a8c0e2b4d6f8a0c1e.jpg"]},
            ),
            ref("parameters", "IfNoneMatch"),
        ],
        "responses": {
            "200": {
                "description": "The thumbnail, at most 150x150 pixels.",
                "headers": {
                    "ETag": ref("headers", "ETag"),
                    "Cache-Control": {
                        "description": "`public, max-age=31536000, immutable`",
                        "schema": {"type": "string"},
                    },
                },
                "content": {
                    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            **refs("NotModified", "EndpointNotFound"),
        },
    },
}
