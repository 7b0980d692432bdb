"""The base URL of a remote API a secret token is sent to (Buy Me a Coffee, Cloudflare D1): the
environment's override, else the profile's, else the service's own; https, or http to this
machine only (a test's stand-in, a local proxy), so a token never crosses a network in clear."""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from adminui.errors import SetupError


def api_base(env: str, configured: str | None, default: str, service: str) -> str:
    """$`env`, else `configured`, else `default`, without a trailing slash; refused unless it
    is https, or http to a loopback address."""
    base = (os.environ.get(env) or configured or default).rstrip("/")
    parts = urlsplit(base)
    if parts.scheme == "https" and parts.hostname:
        return base
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return base
    raise SetupError(
        f"The {service} API URL must be https:// (or http:// to this machine): the token "
        f"is sent to it; {base[:80]!r} is not."
    )


def proxies_allowed(base: str) -> bool:
    """Whether the environment's proxies (HTTP_PROXY, ...) may carry requests to `base`: for
    https, yes (a proxy tunnels TLS, the token stays encrypted); for http to this machine, no
    (a proxy would read the token in clear)."""
    return urlsplit(base).scheme == "https"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
