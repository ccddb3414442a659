"""GitHub secret scanning's signature: ECDSA P-256 with SHA-256 over the raw request body.

The public keys come from a file in the format GitHub serves at
`/meta/public_keys/secret_scanning` (`{"public_keys": [{"key_identifier", "key", "is_current"}]}`),
so verifying needs no internet. Every listed key is accepted, current or not: GitHub keeps
signing with a key for a while after it announces its successor.
"""

import asyncio
import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import Path

import structlog
from cryptography.exceptions import InvalidSignature as BadSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from keyhouse.errors import ServiceUnavailable, Unauthorized

PublicKeys = Mapping[str, ec.EllipticCurvePublicKey]

log = structlog.get_logger(__name__)


class InvalidSignature(Unauthorized):
    """The report is not signed by one of GitHub's keys: nothing is looked up or revoked."""

    code = "invalid_signature"


def parse_public_keys(document: bytes) -> dict[str, ec.EllipticCurvePublicKey]:
    """The P-256 keys of a GitHub public keys document, by identifier (others are skipped)."""
    keys = {}
    for entry in json.loads(document).get("public_keys", []):
        try:
            key = load_pem_public_key(entry["key"].encode())
        except (KeyError, TypeError, AttributeError, ValueError):
            log.warning("secret_scanning_key_unreadable")
            continue
        if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            keys[str(entry.get("key_identifier", ""))] = key
    return keys


async def read_public_keys(path: Path | None) -> dict[str, ec.EllipticCurvePublicKey]:
    """The keys in `path`, read on every report so that a rotated file needs no restart."""
    if path is None:
        return {}
    try:
        return parse_public_keys(await asyncio.to_thread(path.read_bytes))
    except (OSError, ValueError, AttributeError) as error:
        log.error("secret_scanning_keys_file_unreadable", error=type(error).__name__)
        raise ServiceUnavailable("The secret scanning public keys cannot be read.") from error


def verify(keys: PublicKeys, body: bytes, *, key_id: str | None, signature: str | None) -> None:
    """Return if `signature` (base64 DER) is the key `key_id`'s signature of `body`."""
    if not key_id or not signature:
        raise InvalidSignature(
            "Sign the body: send Github-Public-Key-Identifier and Github-Public-Key-Signature."
        )
    key = keys.get(key_id)
    if key is None:
        raise InvalidSignature("Github-Public-Key-Identifier names no key this server trusts.")
    try:
        key.verify(base64.b64decode(signature, validate=True), body, ec.ECDSA(hashes.SHA256()))
    except (BadSignature, binascii.Error, ValueError) as error:
        raise InvalidSignature("Github-Public-Key-Signature does not match the body.") from error
