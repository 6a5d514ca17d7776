"""What the local servers (webhook receiver, mail and SMS sinks, emulators) share: start
and stop, a context manager that does both, an HTTP server on 127.0.0.1 served from a
daemon thread, and the ``main()`` that serves until interrupted.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

LOCALHOST = "127.0.0.1"


class LocalServer:
    """Something started and stopped; ``with`` starts it and stops it again."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ThreadedHttpServer(LocalServer):
    """An HTTP server on 127.0.0.1 (a free port unless given) in a daemon thread."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], port: int = 0, name: str = "local-server"
    ) -> None:
        self._server = ThreadingHTTPServer((LOCALHOST, port), handler)
        self._server.daemon_threads = True
        self._name = name
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=self._name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def serve_until_interrupted(started: LocalServer) -> int:
    """A ``main()``'s end: serve until Ctrl-C (SIGINT), then stop; the exit status."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        started.stop()
    return 0
