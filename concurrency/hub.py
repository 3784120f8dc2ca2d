"""Running a CPU-heavy call off gevent's hub, so one request's work does not stall the others."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def off_the_hub(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run call on gevent's thread pool when gevent serves this process; else just call it.

    A gevent worker serves all its connections on one native thread, the hub: a call that holds
    it for long (an Argon2 hash, decoding a large cover) makes every other connection wait, and
    their database replies can then miss DB_TIMEOUT_MS (a 503). argon2-cffi and Pillow release
    the GIL while they work, so on the pool the hub keeps serving. The calling greenlet waits for
    the answer (or the exception) without blocking the others.
    """
    # Looked up, not imported: only a gevent server patches threading, and any other process
    # (flask run, the tests, the benchmarks) need not load gevent.
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        from gevent import get_hub

        return get_hub().threadpool.apply(call, args, kwargs)
    return call(*args, **kwargs)
