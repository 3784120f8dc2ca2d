"""Item 4: cover uploads against Pillow's own floor (open, draft, thumbnail, save), same files.

Three images are made now, in memory: a 12-megapixel photo-like JPEG, a 4000x3000 PNG drawing
and an animated GIF. For each, interleaved round by round:

- floor: Pillow alone makes the same kind of 150x150 thumbnail (in this process);
- make_thumbnail: the app's decoding path, save_image.make_thumbnail (in this process);
- POST /books/: the whole upload through the production server (one worker, so that its memory
  is the upload's), from the request to the stored cover and book.

Peak memory is the resident high-water mark above the process's resident size just before
(Linux resets the mark through /proc/<pid>/clear_refs), each in a fresh process warmed up on a
small image of the same format: a process that already held a big image keeps that memory and
would hide the next one's.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from argparse import SUPPRESS
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from PIL import Image, ImageDraw

from bench.harness import BenchError, Client, Server, create_book, sign_up_and_log_in
from config import PROJECT_ROOT
from save_image import THUMBNAIL_SIZE, make_thumbnail

MAX_PIXELS = 40_000_000
ROUNDS = 5
CONTENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".gif": "image/gif"}


@dataclass
class Sample:
    """One image to upload."""

    name: str
    data: bytes
    filename: str
    content_type: str


@dataclass
class UploadFigures:
    """Median times (ms) and peak memory above idle (MiB) of one image's three paths."""

    name: str
    megabytes: float
    floor_ms: float
    thumbnail_ms: float
    request_ms: float
    floor_mib: float
    thumbnail_mib: float
    request_mib: float

    @property
    def thumbnail_ratio(self) -> float:
        """Return make_thumbnail's time over the floor's."""
        return self.thumbnail_ms / self.floor_ms

    @property
    def request_ratio(self) -> float:
        """Return the whole upload's time over the floor's."""
        return self.request_ms / self.floor_ms


# The images -------------------------------------------------------------------------------------


def photo(size: tuple[int, int]) -> Image.Image:
    """Return a photo-like RGB image: gradients, shapes and sensor-like noise."""
    red = Image.linear_gradient("L").resize(size)
    green = Image.radial_gradient("L").resize(size)
    blue = red.transpose(Image.Transpose.ROTATE_180)
    image = Image.blend(
        Image.merge("RGB", (red, green, blue)),
        Image.effect_noise(size, 40).convert("RGB"),
        0.25,
    )
    draw = ImageDraw.Draw(image)
    width, height = size
    for index in range(40):
        left, top = (index * 397) % width, (index * 613) % height
        colour = ((index * 53) % 256, (index * 97) % 256, (index * 31) % 256)
        draw.ellipse((left, top, left + width // 8, top + height // 8), fill=colour)
    return image


def drawing(size: tuple[int, int]) -> Image.Image:
    """Return a drawing-like RGB image (flat shapes on a gradient), as PNG covers often are."""
    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for index in range(300):
        left, top = (index * 397) % width, (index * 613) % height
        colour = ((index * 53) % 256, (index * 97) % 256, (index * 31) % 256)
        draw.rectangle((left, top, left + 300, top + 200), fill=colour, outline="black", width=5)
    return Image.blend(image, Image.linear_gradient("L").resize(size).convert("RGB"), 0.3)


def animation(size: tuple[int, int], frames: int) -> bytes:
    """Return an animated GIF: frames of moving shapes."""
    width, height = size
    images = []
    for frame in range(frames):
        image = Image.new("P", size, 0)
        image.putpalette([channel for index in range(256) for channel in (index, 255 - index, 128)])
        draw = ImageDraw.Draw(image)
        for index in range(30):
            left = (index * 97 + frame * 40) % width
            top = (index * 61) % height
            draw.ellipse((left, top, left + 120, top + 120), fill=(index * 8 + frame) % 256)
        images.append(image)
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
    return buffer.getvalue()


def encoded(image: Image.Image, image_format: str, **options: Any) -> bytes:
    """Return the image encoded in a format."""
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def samples() -> list[Sample]:
    """Make the three images."""
    return [
        Sample(
            "12 MP JPEG (4000x3000)",
            encoded(photo((4000, 3000)), "JPEG", quality=90),
            "photo.jpg",
            "image/jpeg",
        ),
        Sample(
            "4000x3000 PNG",
            encoded(drawing((4000, 3000)), "PNG"),
            "drawing.png",
            "image/png",
        ),
        Sample(
            "animated GIF (1200x900, 12 frames)",
            animation((1200, 900), 12),
            "animation.gif",
            "image/gif",
        ),
    ]


# The floor --------------------------------------------------------------------------------------


def pillow_floor(data: bytes) -> bytes:
    """Make a 150x150 thumbnail with Pillow alone: open, draft, thumbnail, save."""
    image = Image.open(io.BytesIO(data))
    if image.format == "JPEG":
        image.draft("RGB", (THUMBNAIL_SIZE[0] * 2, THUMBNAIL_SIZE[1] * 2))
    image.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if image.has_transparency_data:
        image.save(buffer, "PNG")
    else:
        # JPEG holds no palette: convert the 150x150 result, which costs next to nothing.
        (image if image.mode in ("RGB", "L") else image.convert("RGB")).save(
            buffer, "JPEG", quality=85
        )
    return buffer.getvalue()


def app_thumbnail(data: bytes) -> bytes:
    """Make the cover thumbnail the app stores."""
    return make_thumbnail(io.BytesIO(data), MAX_PIXELS).data


# Memory -----------------------------------------------------------------------------------------


def peak_above_idle(pid: int, action: Callable[[], Any]) -> float:
    """Run action; return the process's resident high-water mark above its size before, in MiB."""
    process = psutil.Process(pid)
    idle = process.memory_info().rss
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        action()
        return max(0, _high_water_mark(pid) - idle) / 2**20
    except OSError:
        return _polled_peak(process, idle, action)


def _high_water_mark(pid: int) -> int:
    """Return VmHWM of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise OSError("no VmHWM")


def _polled_peak(process: psutil.Process, idle: int, action: Callable[[], Any]) -> float:
    """Sample the resident size every millisecond while action runs (no clear_refs here)."""
    peak = idle
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        action()
    finally:
        done.set()
        watcher.join()
    return (peak - idle) / 2**20


# Measuring --------------------------------------------------------------------------------------


def small_image(sample: Sample) -> bytes:
    """Return a small image in the sample's format, to warm a process up with."""
    if sample.content_type == "image/gif":
        return animation((64, 48), 2)
    image_format = "PNG" if sample.content_type == "image/png" else "JPEG"
    return encoded(Image.new("RGB", (64, 48), "teal"), image_format)


def child_peak(path: Path, which: str) -> float:
    """Return the peak memory of the floor or make_thumbnail on a file, in a fresh process."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.uploads", "--peak", which, str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return float(result.stdout.split()[-1])


def report_child_peak(which: str, path: Path) -> None:
    """In a fresh process: warm up on a small image, then print the peak of one run in MiB."""
    data = path.read_bytes()
    action = pillow_floor if which == "floor" else app_thumbnail
    sample = Sample("", data, path.name, CONTENT_TYPES[path.suffix])
    action(small_image(sample))
    print(f"{peak_above_idle(os.getpid(), lambda: action(data)):.2f}")


def server_peak(server: Server, sample: Sample) -> float:
    """Return a fresh worker's peak memory above idle while it accepts one upload, in MiB."""
    worker = server.fresh_worker()
    client = Client(server.url)
    token = sign_up_and_log_in(client, f"peak-{worker}@example.com")["token"]
    upload(client, token, "Warm-up", sample, small_image(sample))
    return peak_above_idle(worker, lambda: upload(client, token, "Measured", sample))


def upload(
    client: Client, token: str, title: str, sample: Sample, data: bytes | None = None
) -> None:
    """Create a book with the sample (or `data` in its format) as cover."""
    answer = create_book(
        client,
        token,
        title,
        sample.data if data is None else data,
        filename=sample.filename,
        content_type=sample.content_type,
    )
    if answer.status != 201:
        raise BenchError(f"upload answered {answer.status}: {answer.body[:200]!r}")


def measure(rounds: int = ROUNDS) -> list[UploadFigures]:
    """Measure every image: peaks in fresh processes, then times interleaved round by round."""
    images = samples()
    figures = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-uploads-") as name,
        Server(Path(name) / "instance", app="wsgi:app", WEB_CONCURRENCY=1) as server,
    ):
        folder = Path(name)
        peaks: dict[str, dict[str, float]] = {}
        for sample in images:
            path = folder / sample.filename
            path.write_bytes(sample.data)
            peaks[sample.name] = {
                "floor": child_peak(path, "floor"),
                "thumbnail": child_peak(path, "thumbnail"),
                "request": server_peak(server, sample),
            }
        client = Client(server.url)
        token = sign_up_and_log_in(client, "uploader@example.com")["token"]
        titles = iter(range(1_000_000))
        for sample in images:  # warm-up: imports, first-use caches
            upload(client, token, f"Upload {next(titles)}", sample)
            pillow_floor(sample.data)
            app_thumbnail(sample.data)
        for sample in images:
            paths = {
                "floor": lambda s=sample: pillow_floor(s.data),
                "thumbnail": lambda s=sample: app_thumbnail(s.data),
                "request": lambda s=sample: upload(client, token, f"Upload {next(titles)}", s),
            }
            times: dict[str, list[float]] = {name: [] for name in paths}
            for _ in range(rounds):
                for path_name, action in paths.items():
                    started = time.perf_counter()
                    action()
                    times[path_name].append(time.perf_counter() - started)
            figures.append(
                UploadFigures(
                    name=sample.name,
                    megabytes=len(sample.data) / 2**20,
                    floor_ms=statistics.median(times["floor"]) * 1000,
                    thumbnail_ms=statistics.median(times["thumbnail"]) * 1000,
                    request_ms=statistics.median(times["request"]) * 1000,
                    floor_mib=peaks[sample.name]["floor"],
                    thumbnail_mib=peaks[sample.name]["thumbnail"],
                    request_mib=peaks[sample.name]["request"],
                )
            )
    return figures


def main() -> None:
    """Measure and print the figures of item 4."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--peak", nargs=2, metavar=("floor|thumbnail", "FILE"), help=SUPPRESS)
    arguments = parser.parse_args()
    if arguments.peak:
        report_child_peak(arguments.peak[0], Path(arguments.peak[1]))
        return
    for row in measure(arguments.rounds):
        print(
            f"{row.name:36} {row.megabytes:5.2f} MiB  floor {row.floor_ms:7.1f} ms "
            f"{row.floor_mib:6.1f} MiB | make_thumbnail {row.thumbnail_ms:7.1f} ms "
            f"({row.thumbnail_ratio:4.2f}x) {row.thumbnail_mib:6.1f} MiB | POST "
            f"{row.request_ms:7.1f} ms ({row.request_ratio:4.2f}x) {row.request_mib:6.1f} MiB"
        )


if __name__ == "__main__":
    main()
