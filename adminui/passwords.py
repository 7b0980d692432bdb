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
    """The password to connect with, or None to connect without one (trust, .pgpass, SQLite)."""
    if profile.dialect == "sqlite":
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
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(SERVICE, profile_name, password)
    except KeyringError as error:
        raise SetupError(
            f"The keyring refused to store the password ({type(error).__name__}: {error}); "
            f"install a keyring backend or set {PASSWORD_ENV} instead."
        ) from None


def delete_password(profile_name: str) -> None:
    """Remove a profile's password from the keyring."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, profile_name)
    except PasswordDeleteError:
        raise NotFoundError(f"No password is stored for profile '{profile_name}'.") from None
    except KeyringError as error:
        raise SetupError(
            f"The keyring refused to delete the password ({type(error).__name__}: {error})."
        ) from None
