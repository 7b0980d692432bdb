"""What the loopback stand-ins of remote APIs (bmc_standin.py, d1_standin.py) share."""

from __future__ import annotations

from contextlib import suppress
from http.server import BaseHTTPRequestHandler


def send_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    headers: dict[str, str],
    body: bytes,
    content_type: str = "application/json",
) -> None:
    """Send `body` (JSON, unless a gateway's page) with its status and headers; a client that
    gave up (a timeout) is not an error of the stand-in's."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    with suppress(BrokenPipeError, ConnectionResetError):
        handler.wfile.write(body)
