"""Where cover thumbnails live: files in the instance folder, or GridFS in the shared database."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import click
import gridfs
from flask import Response, current_app, request, send_from_directory
from flask.cli import AppGroup
from pymongo.errors import PyMongoError
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from save_image import Thumbnail
from store.database import get_db
from store.timestamps import as_utc, now

logger = logging.getLogger(__name__)

# A cover's name: 128 random bits and the extension of its format (nothing a client chose).
COVER_NAME = re.compile(r"[0-9a-f]{32}\.(?:jpg|png)")

COVER_CACHE_SECONDS = 365 * 24 * 60 * 60
GRIDFS_BUCKET = "covers"
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}
# Leftovers younger than this may belong to an upload still running (on any instance).
SWEEP_MIN_AGE_SECONDS = 10 * 60
TEMPORARY_PATTERN = ".*.tmp"


# Cover names and files ---------------------------------------------------------------------------


def new_cover_name(extension: str) -> str:
    """Return a new random cover name with the format's extension, refusing any other extension."""
    name = f"{secrets.token_hex(16)}.{extension}"
    if not is_cover_name(name):
        raise ValueError(f"unexpected thumbnail extension {extension!r}")
    return name


def save_cover(thumbnail: Thumbnail, cover_dir: str | os.PathLike[str]) -> str:
    """Store the thumbnail atomically under a new random name in cover_dir; return that name."""
    name = new_cover_name(thumbnail.extension)
    directory = os.fspath(cover_dir)
    os.makedirs(directory, exist_ok=True)
    _write_atomically(directory, name, thumbnail.data)
    return name


def delete_cover(cover_dir: str | os.PathLike[str], name: str) -> None:
    """Remove a stored cover; a missing file is fine and a name that is not a cover's is ignored."""
    if not is_cover_name(name):
        logger.warning("not deleting %r: not a cover file name", name)
        return
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(os.fspath(cover_dir), name))


def is_cover_name(name: str) -> bool:
    """Tell whether name is one save_cover could have produced (so it cannot leave the folder)."""
    return isinstance(name, str) and COVER_NAME.fullmatch(name) is not None


def _write_atomically(directory: str, name: str, data: bytes) -> None:
    """Write data to directory/name through a synced temporary file so readers never see half."""
    descriptor, temporary_path = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp's 0600 is kept: the app serves covers itself, nobody else needs to read them.
        os.replace(temporary_path, os.path.join(directory, name))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary_path)
        raise
    _sync_directory(directory)


def _sync_directory(directory: str) -> None:
    """Make the new name durable: after a crash the book's cover is there, not only its bytes."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class CoverStorageError(Exception):
    """The cover store cannot take a write now (disk full, read-only, no permission)."""


class CoverStore(Protocol):
    """A place that keeps cover thumbnails under server-chosen names."""

    def save(self, thumbnail: Thumbnail) -> str:
        """Store a thumbnail under a new random name and return the name."""

    def delete(self, name: str) -> None:
        """Remove a cover; a missing one is fine."""

    def serve(self, name: str) -> BaseResponse:
        """Answer a cover with caching headers, or raise NotFound."""

    def read(self, name: str) -> bytes | None:
        """Return a cover's bytes, or None if it is not here."""

    def write(self, name: str, data: bytes) -> None:
        """Store bytes under a given name (used when moving covers between stores)."""

    def names(self) -> Iterator[str]:
        """Yield the name of every cover kept here."""

    def older_than(self, seconds: float) -> Iterator[str]:
        """Yield the names of the covers stored more than `seconds` ago."""

    def sweep_temporary(self, min_age_seconds: float) -> int:
        """Remove what interrupted writes left behind; return how many."""


def cover_store(kind: str | None = None) -> CoverStore:
    """Return the store COVER_STORAGE names (or `kind`), for the current app."""
    kind = kind or current_app.config["COVER_STORAGE"]
    if kind == "gridfs":
        return GridFSCoverStore()
    return LocalCoverStore(current_app.config["COVER_DIR"])


def _cacheable(response: BaseResponse) -> BaseResponse:
    """Mark a cover answer as cacheable for a year: its name never points at other bytes."""
    response.cache_control.public = True
    response.cache_control.max_age = COVER_CACHE_SECONDS
    response.cache_control.immutable = True
    return response


class LocalCoverStore:
    """Covers as files in a folder of the instance (one server, or a shared volume)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def save(self, thumbnail: Thumbnail) -> str:
        """Write the thumbnail atomically under a new random name."""
        try:
            return save_cover(thumbnail, self.folder)
        except OSError as error:
            # Full, read-only or forbidden: the client should retry later, not see a bug.
            logger.error("cannot store a cover in %s: %s", self.folder, error)
            raise CoverStorageError(str(error)) from None

    def delete(self, name: str) -> None:
        """Remove the file; one that cannot be removed now is left to `flask covers sweep`."""
        try:
            delete_cover(self.folder, name)
        except OSError as error:
            # Its book no longer names it, so it is not served: only disk space is at stake.
            logger.warning("cover %s left on disk for the sweep: %s", name, error)

    def serve(self, name: str) -> BaseResponse:
        """Send the file with an ETag and a year of caching."""
        if not is_cover_name(name):
            raise NotFound()
        return _cacheable(send_from_directory(self.folder, name, max_age=COVER_CACHE_SECONDS))

    def read(self, name: str) -> bytes | None:
        """Return the file's bytes, or None."""
        path = self.folder / name
        return path.read_bytes() if is_cover_name(name) and path.is_file() else None

    def write(self, name: str, data: bytes) -> None:
        """Write bytes under a given name, atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".{secrets.token_hex(8)}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, self.folder / name)

    def names(self) -> Iterator[str]:
        """Yield the cover files' names."""
        if self.folder.is_dir():
            yield from (path.name for path in self.folder.iterdir() if is_cover_name(path.name))

    def older_than(self, seconds: float) -> Iterator[str]:
        """Yield the names of the covers written more than `seconds` ago."""
        limit = time.time() - seconds
        for name in self.names():
            with contextlib.suppress(FileNotFoundError):
                if (self.folder / name).stat().st_mtime <= limit:
                    yield name

    def sweep_temporary(self, min_age_seconds: float) -> int:
        """Remove the temporary files of writes that died (a killed worker); return how many."""
        removed = 0
        limit = time.time() - min_age_seconds
        if not self.folder.is_dir():
            return 0
        for path in self.folder.glob(TEMPORARY_PATTERN):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime <= limit:
                    path.unlink()
                    removed += 1
        return removed


class GridFSCoverStore:
    """Covers in GridFS, in the database every instance shares: any instance serves any cover."""

    def __init__(self) -> None:
        self.bucket = gridfs.GridFSBucket(get_db(), bucket_name=GRIDFS_BUCKET)

    def save(self, thumbnail: Thumbnail) -> str:
        """Upload the thumbnail under a new random name."""
        name = new_cover_name(thumbnail.extension)
        self.write(name, thumbnail.data)
        return name

    def delete(self, name: str) -> None:
        """Remove every stored revision of the name; what fails now is left for the sweep."""
        try:
            for stored in self.bucket.find({"filename": name}):
                # Another request may have removed it first.
                with contextlib.suppress(gridfs.errors.NoFile):
                    self.bucket.delete(stored._id)
        except PyMongoError as error:
            # Its book no longer names it, so it is not served: only space is at stake.
            logger.warning("cover %s left in GridFS for the sweep: %s", name, type(error).__name__)

    def serve(self, name: str) -> BaseResponse:
        """Answer the blob with an ETag (its name: the bytes behind a name never change)."""
        data = self.read(name)
        if data is None:
            raise NotFound()
        response = Response(data, mimetype=CONTENT_TYPES[name.rsplit(".", 1)[1]])
        response.set_etag(name)
        return _cacheable(response).make_conditional(request)

    def read(self, name: str) -> bytes | None:
        """Return the blob's bytes, or None."""
        if not is_cover_name(name):
            return None
        try:
            return self.bucket.open_download_stream_by_name(name).read()
        except gridfs.errors.NoFile:
            return None

    def write(self, name: str, data: bytes) -> None:
        """Upload bytes under a name (the content type in metadata, as pymongo 4 asks)."""
        content_type = CONTENT_TYPES[name.rsplit(".", 1)[1]]
        self.bucket.upload_from_stream(name, data, metadata={"contentType": content_type})

    def names(self) -> Iterator[str]:
        """Yield the stored covers' names."""
        for stored in self.bucket.find({}):
            yield stored.filename

    def older_than(self, seconds: float) -> Iterator[str]:
        """Yield the names of the covers uploaded more than `seconds` ago."""
        limit = now() - timedelta(seconds=seconds)
        for stored in self.bucket.find({}):
            if stored.upload_date is None or as_utc(stored.upload_date) <= limit:
                yield stored.filename

    def sweep_temporary(self, min_age_seconds: float) -> int:
        """Remove blobs an upload cut short left behind: empty ones; return how many."""
        removed = 0
        limit = now() - timedelta(seconds=min_age_seconds)
        for stored in self.bucket.find({"length": 0}):
            if stored.upload_date is None or as_utc(stored.upload_date) <= limit:
                with contextlib.suppress(gridfs.errors.NoFile):
                    self.bucket.delete(stored._id)
                    removed += 1
        return removed


def cover_in_use(name: str) -> bool:
    """Tell whether a book names this cover: only those are ever served."""
    return get_db().books.find_one({"cover": {"$eq": name}}, {"_id": 1}) is not None


def discard_unless_used(name: str) -> None:
    """Delete a new cover whose book was not written, unless a book names it after all.

    A write that ran out of time (a 503) may still have landed, and its book then names this
    cover: it must stay. When the database cannot tell, the file stays too; sweep_covers removes
    it later if no book names it.
    """
    try:
        used = cover_in_use(name)
    except PyMongoError:
        logger.warning("kept cover %s: the database could not tell whether a book names it", name)
        return
    if not used:
        cover_store().delete(name)


def answer_cover(name: str) -> BaseResponse:
    """Answer a cover that a book names (a leftover of a deleted book is a 404)."""
    if not is_cover_name(name) or not cover_in_use(name):
        raise NotFound()
    return cover_store().serve(name)


def sweep_covers(min_age_seconds: float = SWEEP_MIN_AGE_SECONDS) -> dict[str, int]:
    """Remove what crashes left in the cover store: temporary files and unnamed covers.

    Only leftovers older than min_age_seconds go: a younger one may be an upload in progress.
    """
    store = cover_store()
    counts = {"temporary": store.sweep_temporary(min_age_seconds), "unused": 0}
    for name in list(store.older_than(min_age_seconds)):
        if not cover_in_use(name):
            store.delete(name)
            counts["unused"] += 1
    return counts


def sweep_temporary_files(min_age_seconds: float = SWEEP_MIN_AGE_SECONDS) -> int:
    """Remove only the temporary leftovers (cheap enough for every start)."""
    return cover_store().sweep_temporary(min_age_seconds)


def migrate_covers(target_kind: str) -> dict[str, int]:
    """Copy every book's cover into the `target_kind` store, verify it, then drop the source copy.

    Safe to run again and to interrupt: a cover is removed from the source only once the target
    holds the same bytes, and covers already in the target are left as they are.
    """
    source_kind = "local" if target_kind == "gridfs" else "gridfs"
    source, target = cover_store(source_kind), cover_store(target_kind)
    counts = {"moved": 0, "already_there": 0, "missing": 0}
    for name in get_db().books.distinct("cover"):
        if target.read(name) is not None:
            counts["already_there"] += 1
            source.delete(name)
            continue
        data = source.read(name)
        if data is None:
            counts["missing"] += 1
            continue
        target.write(name, data)
        if target.read(name) != data:
            raise RuntimeError(f"cover {name} did not read back intact; the source copy is kept")
        source.delete(name)
        counts["moved"] += 1
    return counts


covers_command = AppGroup("covers", help="Manage stored cover thumbnails.")


@covers_command.command("sweep")
@click.option(
    "--min-age",
    type=click.IntRange(min=0),
    default=SWEEP_MIN_AGE_SECONDS,
    show_default=True,
    help="Seconds a leftover must have existed (younger ones may be uploads in progress).",
)
def sweep_command(min_age: int) -> None:
    """Remove temporary files and covers that no book names (left by crashes)."""
    counts = sweep_covers(min_age)
    click.echo(f"{counts['temporary']} temporary and {counts['unused']} unused covers removed")


@covers_command.command("migrate")
@click.option(
    "--to", "target", type=click.Choice(["gridfs", "local"]), required=True, help="Target store."
)
def migrate_command(target: str) -> None:
    """Move every book's cover into the given store (set COVER_STORAGE to match afterwards)."""
    counts = migrate_covers(target)
    click.echo(
        f"{counts['moved']} moved, {counts['already_there']} already there, "
        f"{counts['missing']} missing (no file in either store)"
    )
