"""Protecting personal data at rest: sealed raw mail and keyed pseudonyms.

Student data belongs to minors. Two keys, both from :class:`PrivacyConfig`:

* the **data key** seals (AES-256-GCM, from the ``cryptography`` package) the
  raw bytes of every incoming message before they reach the database, so the
  attachments of assistance reports (student lists) are only ever stored
  encrypted, and can be destroyed by deleting the sealed bytes;
* the **pseudonym key** turns a student into a stable keyed pseudonym
  (HMAC-SHA256), so two reports of the same class line up without a name
  ever being stored.

Keys come from the environment (``MAILBOT_DATA_KEY``,
``MAILBOT_PSEUDONYM_KEY``, urlsafe base64 of 32 bytes), else from the keys
file, which is created with fresh random keys (mode 0600) the first time if
it does not exist. Losing the keys file makes stored raw mail unreadable and
changes future pseudonyms: back it up apart from the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mailbot.errors import ConfigError

log = logging.getLogger("mailbot.privacy")

SEAL_MAGIC = b"MBS1"
NONCE_BYTES = 12
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PSEUDONYM_PREFIX = "ELV-"


@dataclass(frozen=True, repr=False)
class Keys:
    """The two secrets; ``repr`` never shows them."""

    data_key: bytes
    pseudonym_key: bytes

    def __repr__(self) -> str:
        return "Keys(**********)"


def load_keys(keys_file: Path, *, create: bool = True) -> Keys:
    """Keys from the environment, else *keys_file* (created when missing and *create*)."""
    stored: dict[str, str] = {}
    if keys_file.exists():
        with keys_file.open("rb") as fh:
            stored = tomllib.load(fh)
    elif create and not (os.environ.get("MAILBOT_DATA_KEY")
                         and os.environ.get("MAILBOT_PSEUDONYM_KEY")):
        stored = _create_keys_file(keys_file)
    elif not create:
        stored = {"data_key": _new_key(), "pseudonym_key": _new_key()}  # throwaway
    return Keys(
        data_key=_decode(os.environ.get("MAILBOT_DATA_KEY") or stored.get("data_key"),
                         "data_key"),
        pseudonym_key=_decode(os.environ.get("MAILBOT_PSEUDONYM_KEY")
                              or stored.get("pseudonym_key"), "pseudonym_key"),
    )


def _new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def _create_keys_file(path: Path) -> dict[str, str]:
    """Write fresh keys to *path*, atomically: a crash never leaves a half-written file,
    and when two processes start at once the first file wins and both use it."""
    keys = {"data_key": _new_key(), "pseudonym_key": _new_key()}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("# mailbot keys: back this file up apart from the database, "
                     "never share it.\n")
            fh.writelines(f'{name} = "{value}"\n' for name, value in keys.items())
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)  # fails if the file appeared meanwhile: never overwrite keys
    except FileExistsError:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    finally:
        os.unlink(tmp)
    log.warning("created new encryption and pseudonym keys in %s: back it up", path)
    return keys


def _decode(value: str | None, name: str) -> bytes:
    if not value:
        raise ConfigError(f"privacy key {name} is missing")
    try:
        key = base64.urlsafe_b64decode(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise ConfigError(f"privacy key {name} is not base64") from exc
    if len(key) != 32:
        raise ConfigError(f"privacy key {name} must be 32 bytes, not {len(key)}")
    return key


class Sealer:
    """Authenticated encryption of stored bytes (AES-256-GCM, random nonce)."""

    def __init__(self, keys: Keys) -> None:
        self._aead = AESGCM(keys.data_key)

    def seal(self, clear: bytes) -> bytes:
        """``MBS1 || nonce || ciphertext+tag``."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return SEAL_MAGIC + nonce + self._aead.encrypt(nonce, clear, SEAL_MAGIC)

    def unseal(self, sealed: bytes) -> bytes:
        """The clear bytes; ValueError if they were not sealed with this key."""
        if not sealed.startswith(SEAL_MAGIC):
            raise ValueError("not sealed by mailbot")
        nonce = sealed[len(SEAL_MAGIC):len(SEAL_MAGIC) + NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, sealed[len(SEAL_MAGIC) + NONCE_BYTES:], SEAL_MAGIC)
        except InvalidTag as exc:
            raise ValueError("sealed with another key, or damaged") from exc


def pseudonymiser(keys: Keys, account: str) -> Callable[[str], str]:
    """A function turning a student key into ``ELV-XXXXXXXX`` within *account*.

    Scoped to the teacher's account (their address) because student ids such
    as ``E-0001`` are only unique there; stable across reports of one class.
    """
    scope = account.strip().lower().encode("utf-8") + b"\x1f"

    def pseudonym(student_key: str) -> str:
        digest = hmac.new(keys.pseudonym_key, scope + student_key.encode("utf-8"),
                          hashlib.sha256).digest()
        number = int.from_bytes(digest[:5], "big")  # 40 bits -> 8 base32 characters
        return PSEUDONYM_PREFIX + "".join(CROCKFORD[(number >> s) & 31]
                                          for s in range(35, -1, -5))

    return pseudonym
