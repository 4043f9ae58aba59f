"""Who may use the app, and whether it may change the corpus: a users file for logins, and read-only mode.

A users file holds one ``name:password`` or ``name:sha256:<hex digest of the password>`` a line; ``#`` starts a
comment.

>>> check = users_check(["alice:secret", "bob:sha256:" + hashlib.sha256(b"x").hexdigest()])
>>> check("alice", "secret"), check("bob", "x"), check("bob", "y"), check("eve", "secret")
(True, True, False, False)
>>> is_read_only("", "0.0.0.0"), is_read_only("", "127.0.0.1"), is_read_only("0", "0.0.0.0")
(True, False, False)
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Callable, Iterable
from pathlib import Path

from assistant.errors import AssistantError


def users_check(lines: Iterable[str]) -> Callable[[str, str], bool]:
    """A login check (Gradio's ``auth`` callable) for the users listed in ``lines``."""
    users: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, colon, secret = line.partition(":")
        if not colon or not name or not secret:
            raise AssistantError(f"users file, line {number}: expected name:password or name:sha256:<hex>")
        users[name] = secret

    def check(name: str, password: str) -> bool:
        secret = users.get(name)
        if secret is None:
            hmac.compare_digest("x", "y")  # about the same time whether or not the name exists
            return False
        if secret.startswith("sha256:"):
            digest = hashlib.sha256(password.encode("utf-8")).hexdigest()
            return hmac.compare_digest(digest, secret[7:].lower())
        return hmac.compare_digest(password.encode("utf-8"), secret.encode("utf-8"))

    return check


def keys_check(lines: Iterable[str]) -> Callable[[str], bool]:
    """A check of API keys (bearer tokens) against a keys file: a key, ``name:key`` or ``name:sha256:<hex>`` a line.

    >>> check = keys_check(["k-plain", "ci:sha256:" + hashlib.sha256(b"k-hashed").hexdigest(), "# none"])
    >>> check("k-plain"), check("k-hashed"), check("k-other"), check("")
    (True, True, False, False)
    """
    plain: list[bytes] = []
    hashed: list[str] = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        secret = line.split(":", 1)[1] if ":" in line and not line.startswith("sha256:") else line
        if secret.startswith("sha256:"):
            hashed.append(secret[7:].lower())
        else:
            plain.append(secret.encode("utf-8"))

    def check(token: str) -> bool:
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        found = False  # every key compared, in constant time each, whatever matches
        for key in plain:
            found |= hmac.compare_digest(token.encode("utf-8"), key)
        for key in hashed:
            found |= hmac.compare_digest(digest, key)
        return found and bool(token)

    return check


def load_keys(path: str | Path) -> Callable[[str], bool]:
    try:
        return keys_check(Path(path).read_text(encoding="utf-8").splitlines())
    except OSError as exc:
        raise AssistantError(f"cannot read the keys file {path} ({exc.strerror}): check ASSISTANT_API_KEYS") from None


def load_users(path: str | Path) -> Callable[[str, str], bool]:
    try:
        return users_check(Path(path).read_text(encoding="utf-8").splitlines())
    except OSError as exc:
        raise AssistantError(f"cannot read the users file {path} ({exc.strerror}): check ASSISTANT_AUTH") from None


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_read_only(setting: str, host: str) -> bool:
    """Read-only when asked ("1"), or by default when the app listens beyond this machine."""
    return setting == "1" or (setting == "" and not is_loopback(host))
