"""Unit tests for save_image: decoding uploads, thumbnails, metadata and limits."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms, JpegImagePlugin, PngImagePlugin

from save_image import CoverError, Thumbnail, make_thumbnail
from tests.helpers import png_declaring

LIMIT = 40_000_000
UNSUPPORTED = "cover image must be a JPEG, PNG, GIF or WebP image"
CORRUPT = "cover image is corrupt or truncated"
RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
RGB = tuple[int, int, int]


# --- helpers -------------------------------------------------------------------------------


def encode(image: Image.Image, image_format: str, **params: object) -> bytes:
    """Return the image encoded in image_format."""
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def thumbnail_of(data: bytes, max_pixels: int = LIMIT) -> Thumbnail:
    """Run make_thumbnail on in-memory bytes."""
    return make_thumbnail(io.BytesIO(data), max_pixels)


def reopen(thumbnail: Thumbnail) -> Image.Image:
    """Decode a thumbnail's bytes again, as a browser would."""
    image = Image.open(io.BytesIO(thumbnail.data))
    image.load()
    return image


def half_and_half(mode: str, size: tuple[int, int], left: object, right: object) -> Image.Image:
    """Return an image whose left half is one colour and right half another."""
    image = Image.new(mode, size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def assert_close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 16) -> None:
    """Assert two colours match channel by channel within a lossy-codec tolerance."""
    assert len(actual) == len(expected), (actual, expected)
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (
        actual,
        expected,
    )


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test inside an empty directory, to show a refusal writes nothing."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def assert_refused(data: bytes, status: int, message: str, workdir: Path, **kwargs: int) -> None:
    """Assert make_thumbnail refuses data with exactly this status and message, writing nothing."""
    with pytest.raises(CoverError) as caught:
        thumbnail_of(data, **kwargs)
    assert (caught.value.status, caught.value.message) == (status, message)
    assert str(caught.value) == message
    assert list(workdir.iterdir()) == []


@pytest.fixture
def thumbnail() -> Thumbnail:
    """A real JPEG thumbnail."""
    return thumbnail_of(encode(Image.new("RGB", (60, 40), RED), "JPEG"))


# --- accepted formats and sizes ------------------------------------------------------------


def test_jpeg_becomes_a_jpeg_thumbnail_bounded_with_aspect_ratio_kept() -> None:
    result = thumbnail_of(encode(Image.new("RGB", (600, 300), RED), "JPEG"))
    image = reopen(result)
    assert (result.extension, result.content_type) == ("jpg", "image/jpeg")
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (150, 75))
    assert_close(image.getpixel((75, 37)), RED)


def test_opaque_png_becomes_a_jpeg_thumbnail() -> None:
    result = thumbnail_of(encode(Image.new("RGB", (300, 600), GREEN), "PNG"))
    image = reopen(result)
    assert (result.extension, result.content_type) == ("jpg", "image/jpeg")
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (75, 150))
    assert_close(image.getpixel((37, 75)), GREEN)


def test_gif_is_accepted() -> None:
    result = thumbnail_of(encode(Image.new("RGB", (400, 200), BLUE).convert("P"), "GIF"))
    image = reopen(result)
    assert (result.extension, image.format, image.size) == ("jpg", "JPEG", (150, 75))
    assert_close(image.getpixel((75, 37)), BLUE)


def test_webp_is_accepted() -> None:
    result = thumbnail_of(encode(Image.new("RGB", (300, 300), RED), "WEBP", quality=90))
    image = reopen(result)
    assert (result.extension, image.format, image.size) == ("jpg", "JPEG", (150, 150))
    assert_close(image.getpixel((75, 75)), RED)


def test_webp_with_alpha_becomes_a_png_with_alpha() -> None:
    source = half_and_half("RGBA", (300, 200), (0, 0, 0, 0), (*RED, 255))
    result = thumbnail_of(encode(source, "WEBP", lossless=True))
    image = reopen(result)
    assert (result.extension, image.format, image.mode) == ("png", "PNG", "RGBA")
    assert image.getpixel((10, 50))[3] == 0
    assert image.getpixel((140, 50)) == (*RED, 255)


def test_small_image_is_not_upscaled() -> None:
    image = reopen(thumbnail_of(encode(Image.new("RGB", (40, 20), RED), "PNG")))
    assert image.size == (40, 20)


def test_large_jpeg_scaled_down_by_the_decoder_still_gets_the_full_thumbnail_size() -> None:
    source = half_and_half("RGB", (2400, 1600), RED, BLUE)
    image = reopen(thumbnail_of(encode(source, "JPEG", quality=95)))
    assert image.size == (150, 100)
    assert_close(image.getpixel((10, 50)), RED)
    assert_close(image.getpixel((140, 50)), BLUE)


def test_large_jpeg_is_decoded_at_a_reduced_size_of_at_least_twice_the_thumbnail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded_sizes = []
    original_load = JpegImagePlugin.JpegImageFile.load

    def spying_load(image: JpegImagePlugin.JpegImageFile) -> object:
        decoded_sizes.append(image.size)
        return original_load(image)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spying_load)
    thumbnail_of(encode(Image.new("RGB", (2400, 1600), RED), "JPEG"))
    assert decoded_sizes[0] == (300, 200)  # an eighth of each side: 1/64 of the memory


def test_upload_is_read_from_its_start_wherever_the_stream_was_left() -> None:
    stream = io.BytesIO(encode(Image.new("RGB", (300, 200), RED), "JPEG"))
    stream.read()  # as a checksum of the upload leaves it
    image = reopen(make_thumbnail(stream, LIMIT))
    assert image.size == (150, 100)
    assert_close(image.getpixel((75, 50)), RED)


class OneWayStream(io.RawIOBase):
    """A stream that cannot seek, like a socket."""

    def __init__(self, data: bytes) -> None:
        self.source = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        return self.source.readinto(buffer)


def test_upload_that_cannot_seek_still_becomes_a_thumbnail() -> None:
    stream = io.BufferedReader(OneWayStream(encode(Image.new("RGB", (300, 200), BLUE), "PNG")))
    assert not stream.seekable()
    image = reopen(make_thumbnail(stream, LIMIT))
    assert image.size == (150, 100)
    assert_close(image.getpixel((75, 50)), BLUE)


def test_format_comes_from_the_bytes_not_the_upload_name(workdir: Path) -> None:
    stream = io.BytesIO(b"<!DOCTYPE html><html><body>hi</body></html>")
    stream.name = "cover.png"
    with pytest.raises(CoverError) as caught:
        make_thumbnail(stream, LIMIT)
    assert (caught.value.status, caught.value.message) == (415, UNSUPPORTED)
    assert list(workdir.iterdir()) == []


# --- colour modes --------------------------------------------------------------------------


def test_rgba_keeps_its_transparency_as_png() -> None:
    source = half_and_half("RGBA", (300, 200), (0, 0, 0, 0), (*RED, 255))
    result = thumbnail_of(encode(source, "PNG"))
    image = reopen(result)
    assert (result.extension, result.content_type) == ("png", "image/png")
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (150, 100))
    assert image.getpixel((10, 50))[3] == 0
    assert image.getpixel((140, 50)) == (*RED, 255)


@pytest.mark.parametrize("image_format", ["PNG", "GIF"])
def test_palette_image_with_a_transparent_index_becomes_rgba_png(image_format: str) -> None:
    source = half_and_half("P", (40, 20), 0, 1)
    source.putpalette([*RED, *GREEN])
    result = thumbnail_of(encode(source, image_format, transparency=0))
    image = reopen(result)
    assert (result.extension, image.mode) == ("png", "RGBA")
    assert image.getpixel((5, 10))[3] == 0
    assert image.getpixel((35, 10)) == (*GREEN, 255)


def test_palette_image_without_transparency_becomes_rgb_jpeg() -> None:
    source = half_and_half("P", (40, 20), 0, 1)
    source.putpalette([*RED, *BLUE])
    image = reopen(thumbnail_of(encode(source, "PNG")))
    assert (image.format, image.mode) == ("JPEG", "RGB")
    assert_close(image.getpixel((5, 10)), RED)
    assert_close(image.getpixel((35, 10)), BLUE)


def test_rgb_png_with_a_transparent_colour_becomes_rgba_png() -> None:
    source = half_and_half("RGB", (40, 20), WHITE, RED)
    image = reopen(thumbnail_of(encode(source, "PNG", transparency=WHITE)))
    assert (image.format, image.mode) == ("PNG", "RGBA")
    assert image.getpixel((5, 10))[3] == 0
    assert image.getpixel((35, 10)) == (*RED, 255)


def test_greyscale_with_alpha_becomes_rgba_png() -> None:
    source = half_and_half("LA", (40, 20), (100, 0), (200, 255))
    image = reopen(thumbnail_of(encode(source, "PNG")))
    assert (image.format, image.mode) == ("PNG", "RGBA")
    assert image.getpixel((5, 10))[3] == 0
    assert image.getpixel((35, 10)) == (200, 200, 200, 255)


def test_greyscale_becomes_rgb_jpeg() -> None:
    source = half_and_half("L", (40, 20), 30, 220)
    image = reopen(thumbnail_of(encode(source, "PNG")))
    assert (image.format, image.mode) == ("JPEG", "RGB")
    assert_close(image.getpixel((5, 10)), (30, 30, 30))
    assert_close(image.getpixel((35, 10)), (220, 220, 220))


def test_one_bit_image_becomes_black_and_white_rgb_jpeg() -> None:
    source = half_and_half("1", (40, 20), 0, 1)
    image = reopen(thumbnail_of(encode(source, "PNG")))
    assert (image.format, image.mode) == ("JPEG", "RGB")
    assert_close(image.getpixel((5, 10)), (0, 0, 0))
    assert_close(image.getpixel((35, 10)), WHITE)


def test_cmyk_jpeg_becomes_rgb_with_the_right_colours() -> None:
    source = half_and_half("CMYK", (80, 40), (0, 255, 255, 0), (255, 255, 0, 0))
    assert Image.open(io.BytesIO(encode(source, "JPEG"))).mode == "CMYK"
    image = reopen(thumbnail_of(encode(source, "JPEG", quality=95)))
    assert (image.format, image.mode) == ("JPEG", "RGB")
    assert_close(image.getpixel((10, 20)), RED, tolerance=24)
    assert_close(image.getpixel((70, 20)), BLUE, tolerance=24)


def test_sixteen_bit_greyscale_gradient_is_scaled_not_clipped_to_white() -> None:
    source = Image.new("I;16", (256, 16))
    source.putdata([x * 257 for x in range(256)] * 16)  # 0 .. 65535, left to right
    data = encode(source, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    image = reopen(thumbnail_of(data))
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (150, 9))
    assert image.getpixel((2, 4))[0] < 20
    assert abs(image.getpixel((75, 4))[0] - 128) < 20
    assert image.getpixel((147, 4))[0] > 235


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (60, 40), colour).convert("P") for colour in (RED, BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert_close(reopen(thumbnail_of(data)).getpixel((30, 20)), RED)


def test_animated_webp_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (60, 40), colour) for colour in (GREEN, BLUE)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert_close(reopen(thumbnail_of(data)).getpixel((30, 20)), GREEN)


def checkerboard(size: int, square: int, colours: tuple[RGB, RGB]) -> Image.Image:
    """Return a square palette image of `square`-pixel squares in two colours (index 2: white)."""
    cells = size // square
    board = Image.new("P", (cells, cells))
    board.putdata([(x + y) % 2 for y in range(cells) for x in range(cells)])
    board.putpalette([*colours[0], *colours[1], *WHITE])
    return board.resize((size, size), Image.Resampling.NEAREST)


def test_big_palette_image_is_averaged_in_whole_blocks_down_to_the_thumbnail() -> None:
    # 1200 pixels is 8 times 150: each 8x8 square must become exactly one pixel of its colour,
    # not a blend with its neighbours (which a LANCZOS pass from twice the size would give).
    source = checkerboard(1200, 8, (RED, BLUE))
    result = thumbnail_of(encode(source, "GIF", transparency=2))  # lossless PNG out
    image = reopen(result)
    assert (result.extension, image.mode, image.size) == ("png", "RGBA", (150, 150))
    assert [image.getpixel((x, 70)) for x in range(4)] == [
        (*RED, 255) if x % 2 == 0 else (*BLUE, 255) for x in range(4)
    ]
    assert image.getpixel((149, 149)) == (*RED, 255)


def test_big_dithered_palette_image_keeps_its_average_colour() -> None:
    # Picking one pixel in eight, as Pillow's own thumbnail of a palette image does, would give
    # pure red or pure blue; the eye, and the thumbnail, see purple.
    source = checkerboard(1200, 1, (RED, BLUE))
    image = reopen(thumbnail_of(encode(source, "GIF")))
    assert (image.format, image.size) == ("JPEG", (150, 150))
    assert_close(image.getpixel((75, 75)), (128, 0, 128))


def test_big_palette_image_keeps_its_transparent_part() -> None:
    source = half_and_half("P", (1200, 900), 0, 1)
    source.putpalette([*RED, *GREEN])
    second_frame = Image.new("P", (1200, 900), 1)
    second_frame.putpalette([*RED, *GREEN])
    data = encode(source, "GIF", transparency=0, save_all=True, append_images=[second_frame])
    result = thumbnail_of(data)
    image = reopen(result)
    assert (result.extension, image.mode, image.size) == ("png", "RGBA", (150, 113))
    assert image.getpixel((10, 56))[3] == 0
    assert image.getpixel((140, 56)) == (*GREEN, 255)


# --- orientation ---------------------------------------------------------------------------


def red_corner_landscape() -> Image.Image:
    """A 200x100 white image with a red top-left corner."""
    image = Image.new("RGB", (200, 100), WHITE)
    image.paste(RED, (0, 0, 50, 50))
    return image


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # stored sideways: rotate 90 degrees clockwise to view
    image = reopen(thumbnail_of(encode(red_corner_landscape(), "JPEG", exif=exif)))
    assert image.size == (75, 150)
    assert_close(image.getpixel((70, 5)), RED)
    assert_close(image.getpixel((5, 5)), WHITE)
    assert_close(image.getpixel((5, 145)), WHITE)


def test_xmp_orientation_is_applied_when_there_is_no_exif() -> None:
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="8"/></rdf:RDF></x:xmpmeta>'
    )
    image = reopen(thumbnail_of(encode(red_corner_landscape(), "JPEG", xmp=xmp)))
    assert image.size == (75, 150)
    assert_close(image.getpixel((5, 145)), RED)  # rotated 90 degrees anticlockwise
    assert_close(image.getpixel((5, 5)), WHITE)


def test_unreadable_exif_is_ignored_rather_than_refusing_the_image() -> None:
    data = encode(Image.new("RGB", (60, 40), RED), "WEBP", exif=b"Exif\x00\x00MM\xf9*garbage")
    image = reopen(thumbnail_of(data))
    assert image.size == (60, 40)
    assert_close(image.getpixel((30, 20)), RED)


def test_truncated_exif_is_ignored_without_a_warning() -> None:
    truncated_exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00"  # IFD entry count cut short
    data = encode(Image.new("RGB", (60, 40), RED), "JPEG", exif=truncated_exif)
    with warnings.catch_warnings(record=True) as emitted:
        warnings.simplefilter("always")
        Image.open(io.BytesIO(data)).getexif()
        assert "Corrupt EXIF data" in str(emitted[0].message)
    image = reopen(thumbnail_of(data))  # pytest's filterwarnings=error would raise on any warning
    assert_close(image.getpixel((30, 20)), RED)


# --- metadata ------------------------------------------------------------------------------


def secret_exif() -> Image.Exif:
    """EXIF with camera details and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Orientation] = 1
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.5)
    return exif


def srgb_profile() -> bytes:
    """An ICC profile to embed."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_jpeg_exif_gps_comment_xmp_and_icc_profile_are_stripped() -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">SecretXmp</x:xmpmeta>'
    data = encode(
        Image.new("RGB", (300, 200), RED),
        "JPEG",
        exif=secret_exif(),
        comment=b"SecretComment",
        xmp=xmp,
        icc_profile=srgb_profile(),
    )
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert {"comment", "xmp", "icc_profile"} <= source.info.keys()

    result = thumbnail_of(data)
    image = reopen(result)
    assert len(image.getexif()) == 0
    assert not {"exif", "comment", "xmp", "XML:com.adobe.xmp", "icc_profile"} & image.info.keys()
    for marker in (b"SecretCam", b"SecretComment", b"SecretXmp", b"Exif\x00", b"ICC_PROFILE"):
        assert marker not in result.data


def test_png_text_chunks_exif_and_icc_profile_are_stripped() -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "SecretAuthor")
    text.add_text("Comment", "SecretZipped", zip=True)
    text.add_itxt("Description", "SecretInternational")
    source = half_and_half("RGBA", (300, 200), (0, 0, 0, 0), (*RED, 255))
    data = encode(source, "PNG", pnginfo=text, exif=secret_exif(), icc_profile=srgb_profile())
    assert len(Image.open(io.BytesIO(data)).text) == 3

    result = thumbnail_of(data)
    image = reopen(result)
    assert image.format == "PNG"
    assert image.text == {}
    assert len(image.getexif()) == 0
    assert not {"exif", "icc_profile", "Author", "Comment", "Description"} & image.info.keys()
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"SecretCam"):
        assert chunk not in result.data


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"just some plain text\n", id="text"),
        pytest.param(b"<!DOCTYPE html><html><body><script>x()</script></body></html>", id="html"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b'<rect width="10" height="10"/></svg>',
            id="svg",
        ),
        pytest.param(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", id="pdf"),
        pytest.param(b"RIFF\x00\x00\x00\x00WAVEfmt ", id="riff-but-not-webp"),
    ],
)
def test_non_images_are_refused_as_unsupported(data: bytes, workdir: Path) -> None:
    assert_refused(data, 415, UNSUPPORTED, workdir)


@pytest.mark.parametrize("image_format", ["BMP", "TIFF"])
def test_images_pillow_reads_but_we_do_not_allow_are_refused(
    image_format: str, workdir: Path
) -> None:
    data = encode(Image.new("RGB", (20, 20), RED), image_format)
    assert Image.open(io.BytesIO(data)).format == image_format
    assert_refused(data, 415, UNSUPPORTED, workdir)


def test_empty_upload_is_refused(workdir: Path) -> None:
    assert_refused(b"", 400, "cover image is empty", workdir)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "GIF", "WEBP"])
def test_truncated_image_is_refused_as_corrupt(image_format: str, workdir: Path) -> None:
    whole = encode(Image.effect_noise((200, 200), 64).convert("RGB"), image_format)
    assert_refused(whole[:100], 400, CORRUPT, workdir)


def test_garbage_after_a_png_signature_is_refused_as_corrupt(workdir: Path) -> None:
    assert_refused(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20, 400, CORRUPT, workdir)


def test_hand_built_one_bit_png_is_a_real_image() -> None:
    image = reopen(thumbnail_of(png_declaring(300, 200)))
    assert (image.format, image.size) == ("JPEG", (150, 100))
    assert_close(image.getpixel((75, 50)), (0, 0, 0))


def test_image_above_the_pixel_limit_is_refused(workdir: Path) -> None:
    bomb = png_declaring(7000, 7000)  # 49 megapixels in about 6 kB
    assert len(bomb) < 50_000
    assert_refused(bomb, 400, "cover image is larger than 40 megapixels", workdir)


def test_pixel_limit_is_checked_from_the_header_before_any_decoding(workdir: Path) -> None:
    header_only = png_declaring(7000, 7000)[:100]  # pixel data cut off: decoding would fail
    assert_refused(header_only, 400, "cover image is larger than 40 megapixels", workdir)


def test_image_exactly_at_the_pixel_limit_is_accepted() -> None:
    image = reopen(thumbnail_of(png_declaring(300, 200), max_pixels=60_000))
    assert image.size == (150, 100)


def test_pixel_limit_comes_from_the_caller(workdir: Path) -> None:
    message = "cover image is larger than 0.05 megapixels"
    assert_refused(png_declaring(300, 200), 400, message, workdir, max_pixels=50_000)


def test_image_in_pillows_bomb_warning_range_is_refused(workdir: Path) -> None:
    assert Image.MAX_IMAGE_PIXELS is not None
    assert Image.MAX_IMAGE_PIXELS < 10_000 * 10_000 <= 2 * Image.MAX_IMAGE_PIXELS
    bomb = png_declaring(10_000, 10_000)
    assert_refused(bomb, 400, "cover image is larger than 40 megapixels", workdir)


def test_image_in_pillows_bomb_error_range_is_refused_cleanly(workdir: Path) -> None:
    assert Image.MAX_IMAGE_PIXELS is not None
    assert 2 * Image.MAX_IMAGE_PIXELS < 20_000 * 20_000
    bomb = png_declaring(20_000, 20_000)
    assert_refused(bomb, 400, "cover image is larger than 40 megapixels", workdir)


def test_limit_above_pillows_bomb_threshold_reports_pillows_threshold(workdir: Path) -> None:
    assert Image.MAX_IMAGE_PIXELS is not None
    message = f"cover image is larger than {Image.MAX_IMAGE_PIXELS / 1_000_000:g} megapixels"
    bomb = png_declaring(10_000, 10_000)
    assert_refused(bomb, 400, message, workdir, max_pixels=500_000_000)


def test_bomb_refusal_emits_no_warning_even_where_warnings_are_shown(workdir: Path) -> None:
    bomb = png_declaring(10_000, 10_000)
    with warnings.catch_warnings(record=True) as emitted:
        warnings.simplefilter("always")  # as in production, unlike pytest's "error"
        assert_refused(bomb, 400, "cover image is larger than 40 megapixels", workdir)
    assert emitted == []


def test_refusing_a_bomb_leaves_pillows_global_limit_alone(workdir: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    assert_refused(
        png_declaring(20_000, 20_000), 400, "cover image is larger than 40 megapixels", workdir
    )
    assert before == Image.MAX_IMAGE_PIXELS
