"""Serving the stand-in: a threaded WSGI server on the loopback interface."""

from __future__ import annotations

import logging
import sys

from werkzeug.serving import WSGIRequestHandler, make_server

from legacy.app import create_app
from legacy.config import LegacyConfig


class _QuietHandler(WSGIRequestHandler):
    """Access log off (a robot run makes thousands of requests); errors still go to stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


def serve(
    config: LegacyConfig, host: str = "127.0.0.1", port: int = 8800, *, access_log: bool = False
) -> None:
    """Serve until interrupted. ``port=0`` takes a free port; the chosen URL is printed first."""
    app = create_app(config)
    handler = WSGIRequestHandler if access_log else _QuietHandler
    server = make_server(host, port, app, threaded=True, request_handler=handler)
    logging.getLogger("werkzeug").setLevel(logging.INFO if access_log else logging.WARNING)
    # The first line on stdout is the URL: test fixtures and scripts read it.
    print(f"legacy stand-in listening on http://{host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()
