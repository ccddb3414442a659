"""Password hashing with argon2id (slow on purpose)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash to store."""
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    """Whether a matching hash was made with other parameters than today's (then hash again)."""
    return _hasher.check_needs_rehash(password_hash)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; a user without a password never matches."""
    if password_hash is None:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
