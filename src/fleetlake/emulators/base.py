"""What every emulator offers: its app on a loopback server, and a data clock to advance."""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.applications import Starlette

from fleetlake.emulators.core import Clock
from fleetlake.emulators.server import EmulatorServer


class Emulator:
    """Base of the API emulators: subclasses set `app` and `clock` and describe their own data."""

    app: Starlette
    clock: Clock

    def server(self, port: int = 0) -> EmulatorServer:
        """An unstarted server for this emulator, its port already bound (for `serve_forever`)."""
        return EmulatorServer(self.app, port=port)

    def serve(self, port: int = 0) -> EmulatorServer:
        """Start serving on 127.0.0.1 in a background thread; use the result as a context manager."""
        return self.server(port).start()

    def advance(self, delta: timedelta) -> datetime:
        """Move the data clock forward: new records appear and states move on, as the API's would."""
        return self.clock.advance(delta)
