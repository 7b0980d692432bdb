"""Where a profile's password comes from: $ADMINUI_PASSWORD, then the keyring, then a prompt.

The keyring entry is service "adminui", user = the profile name (`adminui password set PROFILE`).
Headless Linux often has no usable keyring backend; that is said in one line and the lookup goes
on to the prompt, never a traceback. keyring is imported only when a password is looked up: it
costs ~40 ms of start-up that SQLite (the demo) never needs.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable

from adminui.config import URL_PROFILE, Profile
from adminui.errors import NotFoundError, SetupError

PASSWORD_ENV = "ADMINUI_PASSWORD"
SERVICE = "adminui"


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def find_password(
    profile: Profile, *, interactive: bool, notify: Callable[[str], None] = _say
) -> str | None:
    """The password to connect with, or None to connect without one (trust, .pgpass, SQLite);
    for a D1 database, its API token."""
    if profile.dialect == "sqlite" and not profile.d1:
        return None
    if os.environ.get(PASSWORD_ENV):
        password = os.environ[PASSWORD_ENV]
        try:  # bytes that aren't UTF-8 come as lone surrogates, which fail when sent
            password.encode("utf-8")
        except UnicodeEncodeError:
            raise SetupError(
                f"${PASSWORD_ENV} is not valid UTF-8 text; set it as UTF-8 text."
            ) from None
        return password
    if profile.url.password is not None:  # only --url may carry one
        return str(profile.url.password)
    if profile.name != URL_PROFILE:
        import keyring
        from keyring.errors import KeyringError

        try:
            stored = keyring.get_password(SERVICE, profile.name)
        except KeyringError as error:
            if not interactive:
                raise SetupError(
                    f"No usable keyring ({type(error).__name__}) and no terminal to ask for the "
                    f"password of profile '{profile.name}': set {PASSWORD_ENV}, or install a "
                    "keyring backend (keyrings.alt) and run 'adminui password set "
                    f"{profile.name}'."
                ) from None
            notify(f"No usable keyring ({type(error).__name__}); asking for the password instead.")
        else:
            if stored is not None:
                return stored
    if interactive and profile.d1:
        return getpass.getpass(f"Cloudflare API token for {profile.where}: ").strip()
    if interactive:
        return getpass.getpass(f"Password for {profile.url.username or 'user'}@{profile.where}: ")
    return None


def check_keyring() -> None:
    """Refuse before asking for a password that could not be stored (no usable backend)."""
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.get_password(SERVICE, "adminui-keyring-check")
    except KeyringError as error:
        raise SetupError(
            f"No usable keyring ({type(error).__name__}: {error}); nothing was asked or stored. "
            f"Install a keyring backend (keyrings.alt), or set {PASSWORD_ENV} instead."
        ) from None


def store_password(profile_name: str, password: str) -> None:
    """Save a profile's password in the keyring."""
    _store(profile_name, password, "password", PASSWORD_ENV)


def delete_password(profile_name: str) -> None:
    """Remove a profile's password from the keyring."""
    _delete(profile_name, f"password is stored for profile '{profile_name}'", "password")


def bmc_user(profile_name: str) -> str:
    """The keyring entry (user) of a profile's Buy Me a Coffee token."""
    return f"bmc:{profile_name}"


def find_bmc_token(profile: Profile, *, interactive: bool) -> str:
    """A profile's Buy Me a Coffee token: $ADMINUI_BMC_TOKEN, then the keyring (user
    bmc:PROFILE), then a masked prompt at a terminal. Never in the config file."""
    from adminui.bmc import TOKEN_ENV, BmcError

    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return _header_safe(token, f"${TOKEN_ENV}")
    if profile.name != URL_PROFILE:
        import keyring
        from keyring.errors import KeyringError

        try:
            stored = keyring.get_password(SERVICE, bmc_user(profile.name))
        except KeyringError:
            stored = None
        if stored:
            return _header_safe(stored, "The stored token")
    if interactive:
        token = getpass.getpass("Buy Me a Coffee personal access token: ").strip()
        if token:
            return _header_safe(token, "The token typed")
    raise BmcError(
        f"No Buy Me a Coffee token: set ${TOKEN_ENV}, or store one with 'adminui bmc token set "
        f"--profile {profile.name}' (or use --from-csv with the dashboard's export). Nothing "
        "was done."
    )


def _header_safe(token: str, where: str) -> str:
    """A token goes in an HTTP header: printable ASCII only (never echoed)."""
    from adminui.bmc import BmcError

    if not token.isascii() or not token.isprintable():
        raise BmcError(
            f"{where} holds characters no Buy Me a Coffee token has (it must be printable "
            "ASCII): copy it again from the developer dashboard. Nothing was done."
        )
    return token


def store_bmc_token(profile_name: str, token: str) -> None:
    from adminui.bmc import TOKEN_ENV

    _store(
        bmc_user(profile_name), _header_safe(token, "The token"), "Buy Me a Coffee token", TOKEN_ENV
    )


def delete_bmc_token(profile_name: str) -> None:
    _delete(
        bmc_user(profile_name),
        f"Buy Me a Coffee token is stored for profile '{profile_name}'",
        "token",
    )


def _store(user: str, secret: str, what: str, env: str) -> None:
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(SERVICE, user, secret)
    except KeyringError as error:
        raise SetupError(
            f"The keyring refused to store the {what} ({type(error).__name__}: {error}); "
            f"install a keyring backend or set {env} instead."
        ) from None


def _delete(user: str, missing: str, what: str) -> None:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, user)
    except PasswordDeleteError:
        raise NotFoundError(f"No {missing}.") from None
    except KeyringError as error:
        raise SetupError(
            f"The keyring refused to delete the {what} ({type(error).__name__}: {error})."
        ) from None
