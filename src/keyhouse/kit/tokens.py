"""Secret tokens: `kh_<kind>_<random>_<checksum>`, generated, checked and hashed.

Hand-written because the format is ours (GitHub-style prefix + CRC32 checksum so that a
scanner, or our own fast path, can reject a mistyped or forged token without a lookup).
"""

import hmac
import re
import secrets
import zlib
from enum import StrEnum
from hashlib import sha256

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_BYTES = 32  # 256 bits
RANDOM_LENGTH = 43  # 62**43 > 2**256
CHECKSUM_LENGTH = 6  # 62**6 > 2**32
HINT_LENGTH = 12


class TokenKind(StrEnum):
    """What a token claims to be; never trusted for authorization."""

    API_KEY = "key"
    ACCESS_TOKEN = "at"
    REFRESH_TOKEN = "rt"
    AUTHORIZATION_CODE = "ac"
    INVITATION = "iv"


_TOKEN_RE = re.compile(
    rf"kh_(key|at|rt|ac|iv)_([0-9A-Za-z]{{{RANDOM_LENGTH}}})_([0-9A-Za-z]{{{CHECKSUM_LENGTH}}})"
)


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def generate(kind: TokenKind) -> str:
    """A new token of `kind` with 256 random bits and its checksum."""
    random_part = _base62(int.from_bytes(secrets.token_bytes(RANDOM_BYTES)), RANDOM_LENGTH)
    body = f"kh_{kind.value}_{random_part}"
    return f"{body}_{_checksum(body)}"


def parse_kind(token: str) -> TokenKind | None:
    """The kind of a well-formed token whose checksum matches, else None."""
    match = _TOKEN_RE.fullmatch(token)
    if match is None:
        return None
    body, checksum = token.rsplit("_", 1)
    if not hmac.compare_digest(_checksum(body), checksum):
        return None
    return TokenKind(match.group(1))


def keyed_hash(secret: bytes, token: str) -> str:
    """The only form in which a token is stored: HMAC-SHA-256 under the server secret."""
    return hmac.new(secret, token.encode(), sha256).hexdigest()


def hint(token: str) -> str:
    """The displayable start of a token, e.g. `kh_key_AbC12`."""
    return token[:HINT_LENGTH]
