"""Opening an image and reading its orientation with no warning: threads share warning filters.

Pillow reports some refusals and some broken metadata with warnings.warn. Silencing one means
changing the process-wide warning filters (warnings.catch_warnings), which threads opening images
at once would race on (a thread restoring the filters another one changed). So the paths that
would warn are not taken: each format's own reader is called without Image.open's bomb check
(which only warns between MAX_IMAGE_PIXELS and twice that: the caller's pixel limit refuses those
images from the same header), GIF's canvas and PNG's animation chunks are checked before the
reader sees them, and the EXIF orientation is read without Pillow's EXIF parser.
"""

from __future__ import annotations

import io
import re
import struct
import typing

from PIL import GifImagePlugin, Image, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

# EXIF is a TIFF structure: a byte order, 42, the offset of the first directory, whose 12-byte
# entries are tag, type, count and the value itself when it fits in 4 bytes.
_TIFF_BYTE_ORDERS = {b"II": "<", b"MM": ">"}
_EXIF_PREFIX = re.compile(rb"^(Exif\x00\x00){1,2}")
_ORIENTATION_TAG = 0x0112
_ORIENTATION_TYPES = {3: "H", 4: "L"}  # SHORT, or LONG from careless writers
_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(?:="|>)([0-9])')
_PNG_SIGNATURE_LENGTH = 8
# Pillow's limit on an APNG's frame count (above it, or at 0, it warns and ignores the chunk).
_APNG_MAX_FRAMES = 0x80000000


class _JpegReader(JpegImagePlugin.JpegImageFile):
    """Pillow's JPEG reader, minus the DPI it reads from EXIF on opening (and warns about)."""

    def _read_dpi_from_exif(self) -> None:
        """Leave the DPI unread: a thumbnail drops it, and broken EXIF would warn."""


# Image.open's readers, but JPEG's is the class, not the factory Image.open calls, which also
# sniffs MPO and warns on a malformed one: the first picture, all a thumbnail shows, is the same.
_READERS: dict[str, typing.Callable[[typing.IO[bytes]], Image.Image]] = {
    "JPEG": _JpegReader,
    "PNG": PngImagePlugin.PngImageFile,
    "GIF": GifImagePlugin.GifImageFile,
    "WEBP": WebPImagePlugin.WebPImageFile,
}


def open_quietly(buffer: typing.IO[bytes], image_format: str, max_pixels: int) -> Image.Image:
    """Open the image with image_format's reader (header only); refuse what Pillow would warn of.

    Raises Image.DecompressionBombError for a GIF whose first frame grows its canvas past
    max_pixels (the caller's limit, at most Pillow's), SyntaxError for a PNG whose animation
    chunks Pillow would warn about and ignore, and whatever the reader raises.
    """
    if image_format == "GIF" and _gif_canvas_pixels(buffer) > max_pixels:
        raise Image.DecompressionBombError("the first frame grows the GIF's canvas too large")
    if image_format == "PNG" and not _png_animation_is_valid(buffer):
        raise SyntaxError("invalid APNG animation control chunk")
    buffer.seek(0)
    return _READERS[image_format](buffer)


def _gif_canvas_pixels(buffer: typing.IO[bytes]) -> int:
    """Return the pixels of the canvas GIF's reader makes: the screen, grown to the first frame."""
    # The reader grows it while opening, checking it only as Image.open does (a warning in the
    # band), so it is measured first, walking the blocks as the reader does up to the first frame.
    buffer.seek(0)
    header = buffer.read(13)
    if len(header) < 13:
        return 0  # the reader refuses it
    width, height = struct.unpack_from("<HH", header, 6)
    if header[10] & 0x80:  # a global colour table
        buffer.seek(3 << ((header[10] & 7) + 1), io.SEEK_CUR)
    while (block := buffer.read(1)) not in (b"", b";"):
        if block == b"!":  # an extension: its label, then sub-blocks up to an empty one
            buffer.read(1)
            while (length := buffer.read(1)) and length[0]:
                buffer.seek(length[0], io.SEEK_CUR)
        elif block == b",":
            descriptor = buffer.read(8)
            if len(descriptor) == 8:
                left, top, frame_width, frame_height = struct.unpack("<4H", descriptor)
                width, height = max(width, left + frame_width), max(height, top + frame_height)
            break
    return width * height


def _png_animation_is_valid(buffer: typing.IO[bytes]) -> bool:
    """Tell whether a PNG has at most one acTL chunk with a frame count Pillow accepts."""
    buffer.seek(_PNG_SIGNATURE_LENGTH)
    controls = 0
    while len(head := buffer.read(8)) == 8:
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IEND":  # the reader stops here too: what follows is not the image's
            break
        if kind == b"acTL":
            frames = buffer.read(4)
            controls += 1
            if controls > 1 or (
                len(frames) == 4 and not 0 < int.from_bytes(frames) <= _APNG_MAX_FRAMES
            ):
                return False
            buffer.seek(-len(frames), io.SEEK_CUR)
        buffer.seek(length + 4, io.SEEK_CUR)  # the data, then the CRC
    return True


def read_orientation(image: Image.Image) -> int:
    """Return the EXIF (else XMP) Orientation value, as Image.getexif finds it; 1 when absent."""
    # Read here rather than with getexif, which warns about (then skips) broken tags. Broken
    # metadata never costs the user a cover that decodes fine.
    orientation = _exif_orientation(_exif_block(image.info))
    if orientation is None:
        xmp = image.info.get("XML:com.adobe.xmp") or image.info.get("xmp")
        if isinstance(xmp, str):
            xmp = xmp.encode()
        match = _XMP_ORIENTATION.search(xmp) if isinstance(xmp, bytes) else None
        orientation = int(match[1]) if match else 1
    return orientation


def _exif_block(info: dict[str | tuple[int, int], typing.Any]) -> bytes:
    """Return the image's EXIF block where its reader left it, empty if it has none."""
    exif = info.get("exif")
    if isinstance(exif, bytes):
        return exif
    raw_profile = info.get("Raw profile type exif")  # ImageMagick's PNG text chunk, in hex
    try:
        return bytes.fromhex("".join(raw_profile.split("\n")[3:])) if raw_profile else b""
    except (AttributeError, ValueError):
        return b""


def _exif_orientation(exif: bytes) -> int | None:
    """Return the Orientation tag of an EXIF block's first directory, None if absent or broken."""
    tiff = _EXIF_PREFIX.sub(b"", exif)
    order = _TIFF_BYTE_ORDERS.get(tiff[:2])
    if order is None:
        return None
    try:
        (offset,) = struct.unpack_from(f"{order}4xL", tiff)
        (count,) = struct.unpack_from(f"{order}H", tiff, offset)
        for entry in range(offset + 2, offset + 2 + 12 * count, 12):
            tag, kind, number = struct.unpack_from(f"{order}HHL", tiff, entry)
            if tag == _ORIENTATION_TAG and number == 1 and kind in _ORIENTATION_TYPES:
                return int(struct.unpack_from(order + _ORIENTATION_TYPES[kind], tiff, entry + 8)[0])
    except struct.error:
        return None
    return None
