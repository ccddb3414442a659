"""Secret tokens: `kh_<kind>_<random>_<checksum>`, generated, checked and hashed.

Hand-written because the format is ours (GitHub-style prefix + CRC32 checksum so that a
scanner, or our own fast path, can reject a mistyped or forged token without a lookup).
"""

import hmac
import re
import secrets
import zlib
from enum import StrEnum
from functools import lru_cache
from hashlib import sha256

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_BYTES = 32  # 256 bits
RANDOM_LENGTH = 43  # 62**43 > 2**256
CHECKSUM_LENGTH = 6  # 62**6 > 2**32
HINT_LENGTH = 12
# `key` is the longest kind.
MAX_LENGTH = len("kh_key_") + RANDOM_LENGTH + len("_") + CHECKSUM_LENGTH


class TokenKind(StrEnum):
    """What a token claims to be; never trusted for authorization."""

    API_KEY = "key"
    ACCESS_TOKEN = "at"
    REFRESH_TOKEN = "rt"
    AUTHORIZATION_CODE = "ac"
    INVITATION = "iv"


_KINDS = {kind.value: kind for kind in TokenKind}
# Every two-digit base62 string, in order.
_PAIRS = [high + low for high in BASE62 for low in BASE62]
_TOKEN_RE = re.compile(
    rf"kh_(key|at|rt|ac|iv)_([0-9A-Za-z]{{{RANDOM_LENGTH}}})_([0-9A-Za-z]{{{CHECKSUM_LENGTH}}})"
)


# A token inside any text: not glued to other letters or digits.
_EMBEDDED_RE = re.compile(rf"(?<![0-9A-Za-z]){_TOKEN_RE.pattern}(?![0-9A-Za-z])")


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    # Equals _base62(crc32, CHECKSUM_LENGTH), two digits per step and without a loop: this
    # runs on every request. A CRC32 is below 62**6, so three pairs always suffice.
    high, low = divmod(zlib.crc32(body.encode()), len(_PAIRS) ** 2)
    middle, low = divmod(low, len(_PAIRS))
    return _PAIRS[high] + _PAIRS[middle] + _PAIRS[low]


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
    body, checksum = token[: match.start(3) - 1], match.group(3)
    if not hmac.compare_digest(_checksum(body), checksum):
        return None
    return _KINDS[match.group(1)]


def find_all(text: str) -> list[str]:
    """Every well-formed token with a valid checksum in `text`, in order (for leak scanners)."""
    return [
        match.group(0)
        for match in _EMBEDDED_RE.finditer(text)
        if parse_kind(match.group(0)) is not None
    ]


@lru_cache(maxsize=4)
def _keyed(secret: bytes) -> hmac.HMAC:
    # Keying HMAC hashes the padded secret twice; copying a keyed state skips that per call.
    return hmac.new(secret, digestmod=sha256)


def keyed_hash(secret: bytes, token: str) -> str:
    """The only form in which a token is stored: HMAC-SHA-256 under the server secret."""
    mac = _keyed(secret).copy()
    mac.update(token.encode())
    return mac.hexdigest()


def hint(token: str) -> str:
    """The displayable start of a token, e.g. `kh_key_AbC12`."""
    return token[:HINT_LENGTH]
