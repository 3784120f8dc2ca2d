"""The embedded default database: an nx-27017 MongoDB-protocol server in the instance folder."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE_NAME = "myDatabase"
STATE_FILE = "server.json"
# Held by the one server (`make run`) that owns this instance folder's database, for its lifetime.
OWNER_LOCK_FILE = "owner.lock"
# How often the owner checks that the database still answers.
SUPERVISION_INTERVAL_SECONDS = 1.0
START_TIMEOUT_SECONDS = 15.0
# Every file of the instance folder (the server's data, mail with live reset tokens, covers,
# keys) is the app's alone: no group or other access. No authentication guards the server.
PRIVATE_UMASK = 0o077


class EmbeddedServerError(Exception):
    """The embedded database server could not be started."""


def database_dir(instance_path: str | os.PathLike[str]) -> Path:
    """Return the folder holding the embedded server's data, log and state."""
    return Path(instance_path) / "database"


def embedded_database_url(instance_path: str | os.PathLike[str]) -> str:
    """Return the URL of this instance folder's server, starting it if it is not running."""
    folder = database_dir(instance_path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Folders made before the files were kept private: close them now.
    folder.chmod(0o700)
    with _exclusive_lock(folder / ".lock"):
        state = _read_state(folder)
        if state and _is_alive(state["pid"]) and _accepts_connections(state["port"]):
            return _url(state["port"])
        port = _start_server(folder)
        return _url(port)


def revive(instance_path: str | os.PathLike[str]) -> bool:
    """Start the server again on its recorded port if it died; return whether it was restarted.

    The same port, so that every worker's client reconnects to the same URL by itself.
    """
    folder = database_dir(instance_path)
    with _exclusive_lock(folder / ".lock"):
        state = _read_state(folder)
        if state is None or (_is_alive(state["pid"]) and _accepts_connections(state["port"])):
            return False
        if _is_alive(state["pid"]):
            # Alive but deaf (hung): it must go before another can take its port and files.
            _terminate(state["pid"], timeout=5.0)
        logger.warning("the embedded database stopped; restarting it on port %d", state["port"])
        _start_server(folder, state["port"])
        return True


def supervise(instance_path: str | os.PathLike[str], stop: threading.Event) -> None:
    """Watch this instance folder's server until `stop` is set, restarting it when it dies.

    It blocks: the caller runs it in a thread (or greenlet) of its own.
    """
    while not stop.wait(SUPERVISION_INTERVAL_SECONDS):
        try:
            revive(instance_path)
        except (EmbeddedServerError, OSError, subprocess.SubprocessError) as error:
            logger.error("could not restart the embedded database: %s", error)


class InstanceLockedError(EmbeddedServerError):
    """Another server already owns this instance folder's database."""


# The instance folders this process owns (their lock descriptors), for the life of the process.
_OWNED_INSTANCES: dict[Path, int] = {}
# One "stop supervising" event per instance folder and process: gunicorn re-reads its settings on
# SIGHUP, and the settings that stop the server must stop the watcher the first ones started.
_SUPERVISION_STOPS: dict[Path, threading.Event] = {}


def supervision_stop(instance_path: str | os.PathLike[str]) -> threading.Event:
    """Return this process's event that ends the supervision of an instance folder's server."""
    return _SUPERVISION_STOPS.setdefault(Path(instance_path).resolve(), threading.Event())


def own_instance(instance_path: str | os.PathLike[str]) -> int:
    """Take the instance folder's owner lock for this process's life; return its descriptor.

    Only one server may own an embedded database: the one that stops it. A second server on the
    same folder would take the database from under the first when it stopped.
    """
    folder = database_dir(instance_path)
    owned = _OWNED_INSTANCES.get(folder.resolve())
    if owned is not None:
        # gunicorn re-reads its configuration on SIGHUP, in the same process: it owns the folder.
        return owned
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(folder / OWNER_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise InstanceLockedError(
            f"another server is already running on {Path(instance_path).resolve()}; stop it "
            "first, or give this one its own INSTANCE_PATH (and PORT)"
        ) from None
    _OWNED_INSTANCES[folder.resolve()] = descriptor
    return descriptor


def is_running(instance_path: str | os.PathLike[str]) -> bool:
    """Tell whether this instance folder's server is up and answering."""
    state = _read_state(database_dir(instance_path))
    return bool(state and _is_alive(state["pid"]) and _accepts_connections(state["port"]))


def stop_embedded_server(instance_path: str | os.PathLike[str], timeout: float = 10.0) -> bool:
    """Stop this instance folder's server if it runs; return whether one was stopped."""
    folder = database_dir(instance_path)
    if not folder.is_dir():
        return False
    with _exclusive_lock(folder / ".lock"):
        state = _read_state(folder)
        (folder / STATE_FILE).unlink(missing_ok=True)
        if not state or not _is_alive(state["pid"]):
            return False
        _terminate(state["pid"], timeout)
        return True


def _terminate(pid: int, timeout: float) -> None:
    """Stop a process with SIGTERM, then SIGKILL if it is still there after timeout seconds."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _is_alive(pid):
        os.kill(pid, signal.SIGKILL)


def server_command(data_dir: Path, port: int) -> list[str]:
    """Return the command line that runs nx-27017 on loopback with its files in data_dir."""
    return [
        sys.executable,
        "-c",
        "import sys; from nx_27017.nx_27017 import main; sys.exit(main())",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir / "data"),
        "--log-file",
        str(data_dir / "server.log"),
        "--pid-file",
        str(data_dir / "server.pid"),
    ]


def _start_server(folder: Path, port: int | None = None) -> int:
    """Start a daemonised server on a loopback port (a free one if not given), record it."""
    (folder / "data").mkdir(mode=0o700, exist_ok=True)
    (folder / "data").chmod(0o700)
    pid_file = folder / "server.pid"
    pid_file.unlink(missing_ok=True)
    port = port or free_port()
    # nx-27017 daemonises itself (-d): the server outlives this process, survives a Ctrl-C
    # or a worker restart of the app, and is never left as our zombie child.
    launcher = subprocess.run(
        [*server_command(folder, port), "--daemon"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=START_TIMEOUT_SECONDS,
        check=False,
        # Inherited by the daemon it forks, so every file it creates is 0600.
        umask=PRIVATE_UMASK,
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    pid = None
    while launcher.returncode != 0 or pid is None or not _accepts_connections(port):
        if launcher.returncode != 0 or time.monotonic() > deadline:
            raise EmbeddedServerError(
                f"the embedded database did not start; see {folder / 'server.log'}"
            )
        time.sleep(0.05)
        pid = _read_pid(pid_file)
    _write_state(folder, {"pid": pid, "port": port})
    logger.info("embedded database started on 127.0.0.1:%d (data in %s)", port, folder)
    return port


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _url(port: int) -> str:
    """Return the MongoDB URL of a loopback server."""
    return f"mongodb://127.0.0.1:{port}/{DATABASE_NAME}"


def _accepts_connections(port: int) -> bool:
    """Tell whether something accepts TCP connections on the loopback port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _read_pid(pid_file: Path) -> int | None:
    """Return the pid the daemon wrote, or None while it has not written it yet."""
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _is_alive(pid: int) -> bool:
    """Tell whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_state(folder: Path) -> dict[str, int] | None:
    """Read the recorded pid and port, or None if absent or unreadable."""
    try:
        state = json.loads((folder / STATE_FILE).read_text())
        return {"pid": int(state["pid"]), "port": int(state["port"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_state(folder: Path, state: dict[str, int]) -> None:
    """Record the pid and port atomically."""
    temporary = folder / f".{STATE_FILE}.tmp"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(json.dumps(state))
    os.replace(temporary, folder / STATE_FILE)


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an inter-process lock, so that several workers start one server, not several."""
    with open(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
