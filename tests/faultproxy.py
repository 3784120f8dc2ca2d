"""A TCP proxy for fault tests: passes, refuses, black-holes, delays or cuts database traffic."""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time

MODES = ("pass", "refuse", "blackhole", "delay")


class FaultProxy:
    """Forward loopback connections to a target port, misbehaving on request."""

    def __init__(self, target_port: int, delay_seconds: float = 0.3) -> None:
        self.target_port = target_port
        self.delay_seconds = delay_seconds
        self.mode = "pass"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def url(self) -> str:
        """Return the MongoDB URL of the proxy (no database name)."""
        return f"mongodb://127.0.0.1:{self.port}"

    def set_mode(self, mode: str) -> None:
        """Switch behaviour for new traffic: pass, refuse, blackhole or delay."""
        assert mode in MODES
        self.mode = mode
        if mode in {"refuse", "blackhole"}:
            self.cut()

    def cut(self) -> None:
        """Close every open connection at once, as a network failure would."""
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def close(self) -> None:
        """Stop accepting and drop everything."""
        self._stopped.set()
        self._listener.close()
        self.cut()

    def _accept_loop(self) -> None:
        """Accept clients until closed; refuse by closing at once (a reset, like a closed port)."""
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "refuse":
                # Linger 0: close with a reset, as a port with nothing listening answers.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                continue
            self._track(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _track(self, connection: socket.socket) -> None:
        """Remember a socket so that cut() can close it."""
        with self._lock:
            self._connections.add(connection)

    def _serve(self, client: socket.socket) -> None:
        """Relay bytes both ways, or swallow them in blackhole mode."""
        if self.mode == "blackhole":
            return  # keep the connection open and never answer
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            client.close()
            return
        self._track(upstream)
        pair = {client: upstream, upstream: client}
        try:
            while not self._stopped.is_set():
                readable, _, _ = select.select(list(pair), [], [], 0.2)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    if self.mode == "blackhole":
                        continue
                    if self.mode == "delay":
                        time.sleep(self.delay_seconds)
                    pair[source].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for connection in pair:
                connection.close()
