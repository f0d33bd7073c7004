"""Running the service under uvicorn: SIGTERM stops accepting, answers every request in flight, exits 0."""

from __future__ import annotations

import importlib
import logging
import signal
from types import FrameType
from typing import Any

import uvicorn

logger = logging.getLogger("lstm_nlp.serving")


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose SIGTERM is a graceful stop with exit status 0.

    Stock uvicorn drains the same way but then raises the signal again, so the process ends by
    SIGTERM (status 143): a supervisor would count a clean stop as a crash. Ctrl-C (SIGINT) keeps
    uvicorn's behaviour (a second one forces the exit).
    """

    def __init__(self, config: uvicorn.Config, app_state: Any = None) -> None:
        super().__init__(config)
        self._app_state = app_state

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._app_state is not None:
            self._app_state.draining = True  # /health answers 503 from now on
        if sig == signal.SIGTERM:
            logger.info("SIGTERM: answering the requests in flight, then stopping")
            self.should_exit = True
            return
        super().handle_exit(sig, frame)


def fast_protocols() -> tuple[str, str]:
    """uvicorn's ``http`` and ``loop``: the C HTTP parser (httptools) and uvloop if installed, else h11 and asyncio."""
    def installed(name: str) -> bool:
        try:
            importlib.import_module(name)
        except ImportError:
            return False
        return True

    return ("httptools" if installed("httptools") else "h11"), ("uvloop" if installed("uvloop") else "asyncio")


def serve(app: Any, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> int:
    """Serves ``app`` (from :func:`~lstm_nlp.serving.app.create_app`) until SIGTERM or Ctrl-C.

    Returns:
        0 after a graceful stop, 2 when the model could not be loaded.
    """
    limits = app.state.limits
    http, loop = fast_protocols()
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, http=http, loop=loop,
                            timeout_graceful_shutdown=int(limits.request_timeout_s) + 5, lifespan="on")
    server = DrainingServer(config, app.state)
    failed: list[str] = []

    def load_failed(error: str) -> None:
        failed.append(error)
        server.should_exit = True

    app.state.on_load_failed = load_failed
    server.run()
    if failed:
        return 2
    if not server.started:  # the port was taken (uvicorn logged why)
        return 1
    return 0
