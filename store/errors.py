"""What a write the models make can be refused for: a taken unique value, a stale or busy book."""

from __future__ import annotations


class DuplicateError(Exception):
    """A write refused by a unique index (the email or the shelf title is taken)."""


class ConcurrentUpdateError(Exception):
    """A document changed under every attempt to update it."""


class PreconditionFailedError(Exception):
    """The book is no longer at the version the client read (If-Match)."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"the book is now at version {current_version}")
        self.current_version = current_version
