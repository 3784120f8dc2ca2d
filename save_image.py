"""Cover images: decode an upload safely, make a clean thumbnail, store and delete it."""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import logging
import struct
import threading
import typing
import warnings
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageMode, UnidentifiedImageError

from concurrency.hub import off_the_hub

logger = logging.getLogger(__name__)

THUMBNAIL_SIZE = (150, 150)
ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "GIF", "WEBP"})

UNSUPPORTED_MESSAGE = "cover image must be a JPEG, PNG, GIF or WebP image"
CORRUPT_MESSAGE = "cover image is corrupt or truncated"
EMPTY_MESSAGE = "cover image is empty"

# The JPEG decoder may downscale by up to 8 for free; asking for twice the final size keeps
# enough detail for a sharp LANCZOS thumbnail.
_DRAFT_FACTOR = 2
# Image.thumbnail first averages whole blocks of pixels down to this many times the final size,
# then runs its filter (LANCZOS) the rest of the way; 2.0 is Pillow's default. A palette image
# (GIF) must be converted to RGB before anything can be averaged: picking pixels instead, as
# Pillow does for palette images, turns a red and blue dither red or blue, not purple. Once it
# is converted, block averages all the way down (1.0) suit flat and dithered colours and spare a
# LANCZOS pass that would cost as much again as the conversion.
_REDUCING_GAP = 2.0
_PALETTE_REDUCING_GAP = 1.0
_JPEG_QUALITY = 85
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
# Enough leading bytes to tell every allowed format apart (WebP's tag sits at bytes 8 to 12).
_SIGNATURE_LENGTH = 16

# What each EXIF Orientation value asks a viewer to do (the table ImageOps.exif_transpose uses).
_ORIENTATION_TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Magic numbers decide the format: an upload's file name and content type are client claims.
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)

# What Pillow raises for bytes it cannot decode (UnidentifiedImageError is an OSError; the
# GIF, PNG and WebP readers also end truncated streams with EOFError).
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError)
# What parsing an EXIF block can raise (it is a TIFF structure unpacked with struct).
_EXIF_ERRORS = (SyntaxError, OSError, ValueError, struct.error)
_BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)

DEFAULT_MAX_DECODE_BYTES = 64 * 1024 * 1024
# One cover is decoded at a time in a process, on gevent's thread pool under gevent (the hub
# keeps serving the other connections meanwhile), else on the request's own thread. One at a
# time because Pillow's warnings are silenced with warning filters, which are process-wide: two
# threads inside warnings.catch_warnings() at once can restore each other's filters. It also
# bounds the memory of concurrent uploads to one decoding budget per worker.
_decodes = threading.BoundedSemaphore(1)
# A request waits this long for the slot, then gets a 503 rather than parking its connection.
DECODE_WAIT_SECONDS = 5.0
DECODE_RETRY_AFTER = 5
BUSY_MESSAGE = "the server is busy processing other images, try again shortly"
# After a decode this large the freed memory is handed back to the system.
LARGE_DECODE_BYTES = 8 * 1024 * 1024

# Pillow keeps every multi-band 8-bit mode (RGB, LA, CMYK ...) in 4 bytes a pixel.
_PADDED_PIXEL_BYTES = 4
# Extra bytes a pixel the pipeline holds at its peak beside the decoded image, measured as the
# resident high-water mark of make_thumbnail per mode on 3000x3000 images: converting to RGB or
# RGBA is a 4-byte copy; resizing an image with alpha premultiplies it into another 4-byte copy;
# 16-bit greyscale goes through two 4-byte "I" images; libwebp decodes into its own canvas and
# hands Pillow a copy of it, so a WebP costs 16 bytes a pixel whatever its mode.
_CONVERT_BYTES = 4
_ALPHA_RESIZE_BYTES = 4
_SIXTEEN_BIT_EXTRA_BYTES = 8
_WEBP_PIXEL_BYTES = 16


class CoverError(Exception):
    """An upload that cannot become a cover: `message` is safe to show; `status` 400/413/415/503."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Thumbnail:
    """An encoded, metadata-free cover thumbnail ready to be stored."""

    data: bytes
    extension: str
    content_type: str


def make_thumbnail(
    stream: typing.IO[bytes],
    max_pixels: int,
    max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES,
) -> Thumbnail:
    """Decode an upload (read from its start); return a clean thumbnail within THUMBNAIL_SIZE."""
    upload = _from_start(stream)
    signature = upload.read(_SIGNATURE_LENGTH)
    if not signature:
        raise CoverError(EMPTY_MESSAGE)
    image_format = _detect_format(signature)
    if image_format not in ALLOWED_FORMATS:
        raise CoverError(UNSUPPORTED_MESSAGE, 415)
    limit = _effective_pixel_limit(max_pixels)
    # Taken and given back by the request itself (its greenlet under gevent), never on the
    # pool's thread: a gevent-patched semaphore may only be used from the hub's thread.
    if not _decodes.acquire(timeout=DECODE_WAIT_SECONDS):
        raise CoverError(BUSY_MESSAGE, 503)
    try:
        return off_the_hub(_thumbnail_quietly, upload, image_format, limit, max_decode_bytes)
    finally:
        _decodes.release()


def _thumbnail_quietly(
    upload: typing.IO[bytes], image_format: str, limit: int, max_decode_bytes: int
) -> Thumbnail:
    """Make the thumbnail with Pillow's warnings handled; only ever run by the slot's holder."""
    with warnings.catch_warnings():
        # Between its two bomb thresholds Pillow only warns: make that a refusal, not a log line.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # Pillow warns about, then skips, unreadable EXIF tags: metadata is dropped anyway.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        try:
            return _thumbnail_within_budget(upload, image_format, limit, max_decode_bytes)
        except _BOMB_ERRORS as error:
            raise _too_large(limit) from error
        except _DECODE_ERRORS as error:
            logger.info("refused a %s cover that does not decode: %s", image_format, error)
            raise CoverError(CORRUPT_MESSAGE) from error


def _from_start(stream: typing.IO[bytes]) -> typing.IO[bytes]:
    """Return the upload at its start, as is if it can seek (no copy), else copied to memory."""
    if stream.seekable():
        stream.seek(0)
        return stream
    return io.BytesIO(stream.read())


def _detect_format(data: bytes) -> str | None:
    """Return the Pillow format name the leading bytes announce, or None if not allowed."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for signature, image_format in _SIGNATURES:
        if data.startswith(signature):
            return image_format
    return None


def _effective_pixel_limit(max_pixels: int) -> int:
    """Return the pixel limit actually enforced: ours, or Pillow's bomb threshold if lower."""
    if Image.MAX_IMAGE_PIXELS is None:
        return max_pixels
    return min(max_pixels, Image.MAX_IMAGE_PIXELS)


def _too_large(limit: int) -> CoverError:
    """Build the error for an image with more pixels than allowed."""
    return CoverError(f"cover image is larger than {limit / 1_000_000:g} megapixels")


def _thumbnail_within_budget(
    buffer: typing.IO[bytes], image_format: str, max_pixels: int, max_decode_bytes: int
) -> Thumbnail:
    """Open the image, refuse it if decoding would cost too much, else decode and shrink it."""
    image = _open(buffer, image_format, max_pixels)
    cost = decode_cost(image)
    if cost > max_decode_bytes:
        raise _over_budget(image, cost, max_decode_bytes)
    try:
        image.load()
        return _encode(_shrink(image))
    finally:
        del image  # the decoded pixels must be freed before the memory is handed back
        if cost > LARGE_DECODE_BYTES:
            _release_free_memory()


def _open(buffer: typing.IO[bytes], image_format: str, max_pixels: int) -> Image.Image:
    """Open the image as image_format only and check its declared size; decode nothing yet."""
    image = Image.open(buffer, formats=[image_format])
    width, height = image.size
    # Image.open has read only the header: refusing here costs no pixel memory.
    if width * height > max_pixels:
        raise _too_large(max_pixels)
    if image_format == "JPEG":
        # Drafting picks the decoder's scale and mode now, so the budget judges what it decodes.
        image.draft("RGB", _draft_size(image.size))
    return image


def pixel_bytes(mode: str) -> int:
    """Return how many bytes Pillow keeps for one pixel of an image in this mode."""
    descriptor = ImageMode.getmode(mode)
    band_bytes = int(descriptor.typestr[-1])  # "|u1", "<u2", "<i4" ...: the band's byte size
    if len(descriptor.bands) > 1 and band_bytes == 1:
        return _PADDED_PIXEL_BYTES
    return len(descriptor.bands) * band_bytes


def decode_cost(image: Image.Image) -> int:
    """Return the bytes make_thumbnail holds at its peak for this opened, undecoded image."""
    width, height = image.size
    if image.format == "WEBP":
        return width * height * _WEBP_PIXEL_BYTES
    per_pixel = pixel_bytes(image.mode)
    if image.mode in _SIXTEEN_BIT_MODES:
        per_pixel += _SIXTEEN_BIT_EXTRA_BYTES  # "L" to "RGB" comes after both are freed
    elif image.mode not in {"RGB", "RGBA"}:
        per_pixel += _CONVERT_BYTES
    if _has_alpha(image):
        per_pixel += _ALPHA_RESIZE_BYTES
    return width * height * per_pixel


def _has_alpha(image: Image.Image) -> bool:
    """Tell whether the thumbnail will be RGBA (what the header says about transparency)."""
    return image.mode not in _SIXTEEN_BIT_MODES and image.has_transparency_data


def _over_budget(image: Image.Image, cost: int, max_decode_bytes: int) -> CoverError:
    """Build the 413 for an image whose decoding would need more memory than allowed."""
    width, height = image.size
    kind = " with transparency" if _has_alpha(image) else ""
    return CoverError(
        f"cover image is too large to process: {width}x{height} pixels{kind} needs "
        f"{_mebibytes(cost)} MiB in memory, the limit is {_mebibytes(max_decode_bytes)} MiB; "
        "upload a smaller image",
        413,
    )


def _mebibytes(size: int) -> str:
    """Return a byte count in MiB, rounded up so a cost never reads as within the limit."""
    return f"{-(-size // 2**20)}"


def _load_malloc_trim() -> typing.Callable[[int], int] | None:
    """Return glibc's malloc_trim, or None on another C library (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


_malloc_trim = _load_malloc_trim()


def _release_free_memory() -> None:
    """Hand freed heap pages back to the system after a large decode."""
    # glibc keeps what Pillow freed in its arenas: without this a worker stays hundreds of MiB
    # above idle after large covers (measured: three 3000x3000 RGBA PNGs at once left 53 MiB
    # resident without it, 2 MiB with it).
    if _malloc_trim is not None:
        _malloc_trim(0)


def _draft_size(size: tuple[int, int]) -> tuple[int, int]:
    """Return the smallest size the JPEG decoder may scale down to for a sharp thumbnail."""
    width, height = size
    # The bounding box is square, so an EXIF rotation applied later does not change the scale.
    scale = min(THUMBNAIL_SIZE[0] / width, THUMBNAIL_SIZE[1] / height, 1.0)
    return (
        max(1, round(width * scale)) * _DRAFT_FACTOR,
        max(1, round(height * scale)) * _DRAFT_FACTOR,
    )


def _shrink(image: Image.Image) -> Image.Image:
    """Normalise the colour mode, resize within THUMBNAIL_SIZE and apply the EXIF orientation."""
    transpose = _ORIENTATION_TRANSPOSES.get(_read_orientation(image))
    gap = _PALETTE_REDUCING_GAP if image.mode == "P" else _REDUCING_GAP
    image = _normalise_mode(image)
    image.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS, reducing_gap=gap)
    # Rotating the thumbnail instead of the full image is cheaper and, the box being square,
    # gives the same result.
    return image if transpose is None else image.transpose(transpose)


def _read_orientation(image: Image.Image) -> int:
    """Return the EXIF (or XMP) Orientation value, 1 (upright) when absent or unreadable."""
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except _EXIF_ERRORS as error:
        # Broken metadata should not cost the user a cover whose pixels decode fine.
        logger.info("ignoring unreadable EXIF in a cover: %s", error)
        return 1
    return orientation if isinstance(orientation, int) else 1


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Return the image in RGBA if it has any transparency, otherwise in RGB."""
    if image.mode in _SIXTEEN_BIT_MODES:
        image = _to_eight_bit(image)
    mode = "RGBA" if image.has_transparency_data else "RGB"
    # Already in that mode, convert() would only copy it: 36 MB more for a 12-megapixel RGB PNG.
    return image if image.mode == mode else image.convert(mode)


def _to_eight_bit(image: Image.Image) -> Image.Image:
    """Scale 16-bit greyscale down to 8-bit "L" (a plain convert clips almost everything white)."""
    # A 16-bit tRNS value has no exact 8-bit equivalent; dropping it beats a wrong mask.
    image.info.pop("transparency", None)
    return image.convert("I").point(lambda value: value / 256).convert("L")


def _encode(image: Image.Image) -> Thumbnail:
    """Encode as PNG if the image has an alpha band, else as JPEG, with no metadata at all."""
    # A fresh image carries no info, EXIF, XMP, ICC profile or comment for save() to copy.
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    buffer = io.BytesIO()
    if clean.mode == "RGBA":
        clean.save(buffer, "PNG", optimize=True)
        return Thumbnail(buffer.getvalue(), "png", "image/png")
    clean.save(buffer, "JPEG", quality=_JPEG_QUALITY, optimize=True)
    return Thumbnail(buffer.getvalue(), "jpg", "image/jpeg")
