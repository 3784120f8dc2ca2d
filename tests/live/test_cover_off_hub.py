"""One gevent worker making a large cover's thumbnail still answers its other connections."""

from __future__ import annotations

import io
import json
import select
import socket
import uuid
from collections.abc import Iterator

import pytest
import requests
from PIL import Image

from tests.live.server import LiveServer, running, sign_up_and_log_in

pytestmark = pytest.mark.integration

# 36 megapixels of RGB: about half a second of decoding and shrinking on the test machine
# (measured with make_thumbnail), against a few milliseconds for GET /health. Its decode cost
# (4 bytes a pixel) is above the default budget, so the server is given a larger one.
COVER_SIZE = (6000, 6000)
DECODE_BUDGET = str(256 * 1024 * 1024)
# The bytes cut off the PNG's end: the server decodes all the rest, then refuses it at once,
# with no database write after the thumbnail during which the worker would serve others anyway.
TRUNCATED_BYTES = 2000
# The request's last bytes, held back until the worker is waiting for them (past the token check).
HELD_BACK_BYTES = 64


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Yield a live server with a single gevent worker: every request shares its hub."""
    instance = tmp_path_factory.mktemp("one_worker") / "instance"
    settings = {"WEB_CONCURRENCY": "1", "COVER_MAX_DECODE_BYTES": DECODE_BUDGET}
    with running(LiveServer(instance, **settings)) as live:
        yield live


def slow_cover() -> bytes:
    """A large smooth PNG (small in bytes, costly to decode) with the end of its pixels cut off."""
    width, height = COVER_SIZE
    across = Image.linear_gradient("L").resize(COVER_SIZE)
    down = across.transpose(Image.Transpose.ROTATE_90).resize(COVER_SIZE)
    image = Image.merge("RGB", (across, down, Image.new("L", (width, height), 128)))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()[:-TRUNCATED_BYTES]


def book_upload(server: LiveServer, headers: dict[str, str], cover: bytes) -> bytes:
    """Return a whole POST /books/ request (multipart, with the cover) as bytes."""
    boundary = uuid.uuid4().hex
    fields = {"title": "Slow cover", "category": "science"}
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="cover_image"; '
        'filename="cover.png"\r\nContent-Type: image/png\r\n\r\n'
    ).encode()
    body += cover + f"\r\n--{boundary}--\r\n".encode()
    head = (
        f"POST /books/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: {headers['Authorization']}\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def read_answer(connection: socket.socket) -> bytes:
    """Read a response to its end (the server closes the connection after it)."""
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    return answer


def has_answer_waiting(connection: socket.socket) -> bool:
    """Tell whether the server has already sent something on this connection, without waiting."""
    # On loopback the kernel queues a response as the server sends it, so this tells the order in
    # which the worker answered, whatever the order in which this process's threads run.
    return bool(select.select([connection], [], [], 0)[0])


def test_health_is_answered_while_the_only_worker_makes_a_large_thumbnail(
    one_worker: LiveServer,
) -> None:
    headers = sign_up_and_log_in(one_worker.url, f"{uuid.uuid4().hex}@example.com")
    request = book_upload(one_worker, headers, slow_cover())

    with socket.create_connection(("127.0.0.1", one_worker.port), timeout=60) as connection:
        connection.sendall(request[:-HELD_BACK_BYTES])
        # The token check of a request sent later, its database read answered after the
        # upload's own: the upload is past its token check and waits for its last bytes, so
        # nothing stands between their arrival and the thumbnail.
        profile = requests.get(one_worker.url + "/users/", headers=headers, timeout=30)
        assert profile.status_code == 200
        connection.sendall(request[-HELD_BACK_BYTES:])  # the thumbnail starts on arrival
        health = requests.get(one_worker.url + "/health", timeout=30)
        upload_answered_first = has_answer_waiting(connection)
        upload = read_answer(connection)

    assert health.status_code == 200
    assert health.json() == {"message": "ok", "data": {"status": "ok"}}
    assert not upload_answered_first, "GET /health waited for the upload's thumbnail"
    head, _, body = upload.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body) == {
        "message": "cover image is corrupt or truncated",
        "data": None,
        "error": "Bad Request",
    }
    books = requests.get(one_worker.url + "/books/", headers=headers, timeout=30)
    assert books.status_code == 200 and books.json()["data"] == []
    covers = one_worker.instance / "covers"
    assert not covers.exists() or list(covers.iterdir()) == []
