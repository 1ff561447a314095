"""Secrets at rest: argon2 password hashes, opaque tokens stored as SHA-256, Mosquitto hashes."""

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api.errors import ApiError

EDGE_TOKEN_PREFIX = "bke_"  # lets the access layer tell an edge's bearer token at a glance
MOSQUITTO_ITERATIONS = 1000
_MOSQUITTO_SALT_BYTES = 12
MIN_PASSWORD_LENGTH = 12


class WeakPasswordError(ApiError):
    """A password too short to accept."""


class PasswordHashing:
    """argon2id, memory-hard; defaults are RFC 9106's second recommendation (64 MiB, t=3)."""

    def __init__(self, *, memory_kib: int = 64 * 1024, time_cost: int = 3) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise WeakPasswordError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def burn(self) -> None:
        """Spend one verification's time, so an unknown user answers as slowly as a known one."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        self.verify(self._dummy_hash, "not-the-password")


def new_token(prefix: str = "") -> str:
    """A random opaque token (256 bits) for a session, an edge device or a share link."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored for an opaque token: high entropy makes a fast hash enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(candidate: str, expected: str) -> bool:
    return hmac.compare_digest(candidate.encode(), expected.encode())


def mosquitto_password_hash(password: str, *, salt: bytes | None = None) -> str:
    """The `$7$` PBKDF2-SHA512 hash Mosquitto 2 reads in its password file."""
    salt = salt if salt is not None else secrets.token_bytes(_MOSQUITTO_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, MOSQUITTO_ITERATIONS)
    return (
        f"$7${MOSQUITTO_ITERATIONS}${base64.b64encode(salt).decode()}"
        f"${base64.b64encode(digest).decode()}"
    )
