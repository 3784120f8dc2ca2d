"""Thumbnails made at once: threads share no warning state; under gevent the hub keeps serving."""

from __future__ import annotations

import io
import struct
import threading
import warnings
import zlib

from PIL import ExifTags, Image

from save_image import CoverError, make_thumbnail
from tests.helpers import png_declaring, run_script

LIMIT = 40_000_000
THREADS_PER_KIND = 4
ROUNDS = 3
Outcome = tuple[object, ...]


def encode(image: Image.Image, image_format: str, **params: object) -> bytes:
    """Return the image encoded in image_format."""
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def sideways_jpeg() -> bytes:
    """A 300x200 JPEG whose EXIF asks viewers to turn it a quarter clockwise."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    return encode(Image.new("RGB", (300, 200), (200, 30, 30)), "JPEG", exif=exif)


def gif_growing_its_canvas(width: int, height: int) -> bytes:
    """A GIF with a 10x10 screen whose first frame is width x height: Pillow grows the canvas."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 10, 10, 0x80, 0, 0) + bytes(6)  # 2 colours
    frame = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + bytes([2, 2, 0x4C, 0x01, 0])
    return screen + frame + b";"


def png_with_animation_control(frames: int, after_pixels: bool) -> bytes:
    """A 20x10 PNG with an acTL chunk announcing `frames` frames, before or after its IDAT."""
    data = encode(Image.new("RGB", (20, 10), "red"), "PNG")
    body = struct.pack(">II", frames, 0)
    control = struct.pack(">I", 8) + b"acTL" + body + struct.pack(">I", zlib.crc32(b"acTL" + body))
    at = data.index(b"IEND" if after_pixels else b"IDAT") - 4
    return data[:at] + control + data[at:]


def uploads() -> dict[str, bytes]:
    """One upload of each kind that Pillow warns about (or did), and plain ones."""
    truncated_exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00"  # Pillow warns reading it
    animated = [Image.new("RGB", (40, 30), colour) for colour in ("red", "blue")]
    return {
        "bomb in Pillow's warning range": png_declaring(10_000, 10_000),
        "bomb in Pillow's error range": png_declaring(20_000, 20_000),
        "GIF frame growing the canvas to a bomb": gif_growing_its_canvas(10_000, 10_000),
        "APNG with no frames": png_with_animation_control(0, after_pixels=False),
        "APNG with no frames after its pixels": png_with_animation_control(0, after_pixels=True),
        "broken EXIF": encode(Image.new("RGB", (60, 40), "red"), "JPEG", exif=truncated_exif),
        "EXIF orientation": sideways_jpeg(),
        "plain PNG": encode(Image.new("RGBA", (400, 300), (0, 90, 200, 128)), "PNG"),
        "APNG": encode(animated[0], "PNG", save_all=True, append_images=animated[1:]),
    }


def outcome(data: bytes) -> Outcome:
    """What make_thumbnail answers for these bytes: the thumbnail's shape, or the refusal."""
    try:
        thumbnail = make_thumbnail(io.BytesIO(data), LIMIT)
    except CoverError as error:
        return ("refused", error.status, error.message)
    image = Image.open(io.BytesIO(thumbnail.data))
    return ("thumbnail", thumbnail.content_type, image.size, image.mode)


def test_threads_making_thumbnails_at_once_get_their_own_answers_and_leave_warnings_alone() -> None:
    cases = uploads()
    expected = {name: outcome(data) for name, data in cases.items()}
    filters_before, show_before = list(warnings.filters), warnings.showwarning
    jobs = [name for name in cases for _ in range(THREADS_PER_KIND)]
    start = threading.Barrier(len(jobs))
    answers: dict[int, list[Outcome]] = {}

    def run(number: int, name: str) -> None:
        """Make the same thumbnail a few times, all threads starting together."""
        start.wait()
        try:
            answers[number] = [outcome(cases[name]) for _ in range(ROUNDS)]
        except Exception as error:  # a warning turned into an error by pytest lands here
            answers[number] = [("raised", repr(error))]

    threads = [threading.Thread(target=run, args=item) for item in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {number: answers[number] for number in range(len(jobs))} == {
        number: [expected[name]] * ROUNDS for number, name in enumerate(jobs)
    }
    assert expected["bomb in Pillow's warning range"] == (
        "refused",
        400,
        "cover image is larger than 40 megapixels",
    )
    assert expected["EXIF orientation"] == ("thumbnail", "image/jpeg", (100, 150), "RGB")
    assert warnings.filters == filters_before
    assert warnings.showwarning is show_before


def test_a_thumbnail_emits_no_warning_even_where_warnings_are_shown() -> None:
    with warnings.catch_warnings(record=True) as emitted:
        warnings.simplefilter("always")  # as in production, unlike pytest's "error"
        answers = {name: outcome(data) for name, data in uploads().items()}
    assert emitted == []
    too_large = ("refused", 400, "cover image is larger than 40 megapixels")
    # A broken animation chunk is ignored as Pillow ignores it: the first image decodes fine.
    first_image_only = ("thumbnail", "image/jpeg", (20, 10), "RGB")
    assert answers == {
        "bomb in Pillow's warning range": too_large,
        "bomb in Pillow's error range": too_large,
        "GIF frame growing the canvas to a bomb": too_large,
        "APNG with no frames": first_image_only,
        "APNG with no frames after its pixels": first_image_only,
        "broken EXIF": ("thumbnail", "image/jpeg", (60, 40), "RGB"),
        "EXIF orientation": ("thumbnail", "image/jpeg", (100, 150), "RGB"),
        "plain PNG": ("thumbnail", "image/png", (150, 113), "RGBA"),
        "APNG": ("thumbnail", "image/jpeg", (40, 30), "RGB"),
    }


# A gevent-patched process, as a gunicorn worker is: a ticker greenlet counts how often the hub
# lets it run. The decoding step logs the count as it starts and ends: on the hub the count
# could not move in between. Two greenlets then decode large covers at once.
GEVENT_SCRIPT = """
from gevent import monkey

monkey.patch_all()

import io
import json
import sys

import gevent
from PIL import Image

import save_image

# The ticker never idles: the decoding thread then waits a whole switch interval each time it
# takes the GIL back; a shorter interval keeps the test quick.
sys.setswitchinterval(0.0005)
state = {"ticks": 0, "running": True}
events = []
decode = save_image._thumbnail_quietly


def logged_decode(*args):
    events.append(("start", state["ticks"]))
    try:
        return decode(*args)
    finally:
        events.append(("end", state["ticks"]))


save_image._thumbnail_quietly = logged_decode


def ticker():
    while state["running"]:
        state["ticks"] += 1
        gevent.sleep(0)


def png(size):
    gradient = Image.linear_gradient("L").resize(size)
    buffer = io.BytesIO()
    flipped = gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    Image.merge("RGB", (gradient, flipped, gradient)).save(buffer, "PNG")
    return buffer.getvalue()


def ticks_during(data):
    events.clear()
    thumbnail = save_image.make_thumbnail(io.BytesIO(data), 40_000_000)
    (_, start), (_, end) = events
    return end - start, Image.open(io.BytesIO(thumbnail.data)).size


large, small = png((1500, 1500)), png((1000, 600))
assert save_image.decode_cost(Image.open(io.BytesIO(large))) > save_image.LARGE_DECODE_BYTES
assert save_image.decode_cost(Image.open(io.BytesIO(small))) <= save_image.LARGE_DECODE_BYTES
greenlet = gevent.spawn(ticker)
gevent.sleep(0)
result = {"large": ticks_during(large), "small": ticks_during(small)}
# The ticker, never idle, would now only slow the decodes down (it competes for the GIL); and
# on a busy machine the second decode may wait for the slot past its usual 5 seconds.
state["running"] = False
greenlet.join()
save_image.DECODE_WAIT_SECONDS = 120
events.clear()
both = [gevent.spawn(save_image.make_thumbnail, io.BytesIO(large), 40_000_000) for _ in range(2)]
gevent.joinall(both, raise_error=True)
result["two large at once"] = [event for event, _ in events]
result["slot free after"] = save_image._decodes.acquire(blocking=False)
print(json.dumps(result))
"""


def test_thumbnails_leave_the_hub_free_and_decodes_take_turns() -> None:
    outcome = run_script(GEVENT_SCRIPT, timeout=300)
    large_ticks, large_size = outcome["large"]
    small_ticks, small_size = outcome["small"]
    assert (large_size, small_size) == ([150, 150], [150, 90])
    assert large_ticks > 0, "the hub ran nothing else while a large cover was decoded"
    assert small_ticks > 0, "the hub ran nothing else while a small cover was decoded"
    # One decode per process: the second starts only once the first has ended.
    assert outcome["two large at once"] == ["start", "end", "start", "end"]
    assert outcome["slot free after"] is True
