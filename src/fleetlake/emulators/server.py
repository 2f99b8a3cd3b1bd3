"""Serve an ASGI app with uvicorn on loopback, in a background thread or in the foreground."""

from __future__ import annotations

import logging
import socket
import threading
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from fleetlake.emulators.faults import InjectedResetError

HOST = "127.0.0.1"


class _QuietInjectedResets(logging.Filter):
    """Drops uvicorn's traceback for a connection the `reset` fault dropped on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InjectedResetError))


_QUIET_RESETS = _QuietInjectedResets()


class _Server(uvicorn.Server):
    """uvicorn's server, telling a waiting thread as soon as startup has finished (or failed)."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()


def _listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # uvloop and asyncio set TCP_NODELAY on every accepted connection; set it here too so the
    # listening socket documents the intent (and sockets inherit it where the OS supports that)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((HOST, port))
        # listening at once lets clients connect before uvicorn runs: they wait in the backlog
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class EmulatorServer:
    """An ASGI app served by uvicorn (httptools, uvloop) on 127.0.0.1.

    The socket is bound on construction, so `url` is known before the server starts; `port=0` picks
    a free port. Use it as a context manager (`start` on enter, `stop` on exit), or call
    `serve_forever` to serve in the foreground until Ctrl-C.
    """

    def __init__(self, app: ASGIApp, *, port: int = 0, log_level: str = "warning") -> None:
        self._socket = _listening_socket(port)
        self.port: int = self._socket.getsockname()[1]
        self._ready = threading.Event()
        config = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=False,
            http="httptools",
            loop="uvloop",
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config, self._ready)
        # after uvicorn.Config, which (re)configures its loggers; a logger keeps a filter across that
        error_logger = logging.getLogger("uvicorn.error")
        if _QUIET_RESETS not in error_logger.filters:
            error_logger.addFilter(_QUIET_RESETS)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """The server's root URL, `http://127.0.0.1:PORT`."""
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server has started and not yet stopped."""
        return bool(self._server.started) and not self._server.should_exit

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as error:  # the waiting thread re-raises it
            self._error = error
        finally:
            self._ready.set()

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        """Serve in a daemon thread; returns once uvicorn reports it has started."""
        if self._thread is not None:
            raise RuntimeError("this EmulatorServer was already started")
        self._thread = threading.Thread(target=self._run, name=f"emulator-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or not self._server.started:
            self.stop()
            raise RuntimeError(f"the emulator on {self.url} did not start") from self._error
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask uvicorn to shut down and wait for the thread; safe to call twice."""
        self._server.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._socket.close()

    def serve_forever(self) -> None:
        """Serve on the calling thread until Ctrl-C (SIGINT) or SIGTERM, then shut down cleanly."""
        try:
            self._server.run(sockets=[self._socket])
        except KeyboardInterrupt:
            # uvicorn re-raises the signal it handled once it has shut down; that is our normal exit
            pass
        finally:
            self._socket.close()

    def __enter__(self) -> EmulatorServer:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
