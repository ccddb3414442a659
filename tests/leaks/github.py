"""GitHub's side of secret scanning, played by the test: its keys file and signed reports."""

import base64
import json
from functools import cache
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from keyhouse.config import Settings

KEY_ID = "f9525bf080f75b3506ca1ead061add62b8633a346606dc5fe544e29231c6ee0d"
OLD_KEY_ID = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a"
PATH = "/api/v1/secret-scanning/github"


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public.decode()


@cache
def signing_keys(keys_file: Path) -> dict[str, ec.EllipticCurvePrivateKey]:
    """GitHub's current and previous keys; their public halves written as GitHub serves them."""
    keys = {
        KEY_ID: ec.generate_private_key(ec.SECP256R1()),
        OLD_KEY_ID: ec.generate_private_key(ec.SECP256R1()),
    }
    document = {
        "public_keys": [
            {"key_identifier": key_id, "key": _pem(key), "is_current": key_id == KEY_ID}
            for key_id, key in keys.items()
        ]
    }
    keys_file.write_text(json.dumps(document))
    return keys


def sign(settings: Settings, body: bytes, key_id: str = KEY_ID) -> str:
    """GitHub's signature of `body`: base64 of the DER ECDSA P-256 SHA-256 signature."""
    assert settings.secret_scanning_keys_file is not None
    key = signing_keys(settings.secret_scanning_keys_file)[key_id]
    return base64.b64encode(key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()


def payload(*tokens: str, url: str = "https://github.com/octo/app/blob/main/.env") -> bytes:
    """A report as GitHub sends it."""
    reports = [
        {"token": token, "type": "keyhouse_api_key", "url": url, "source": "content"}
        for token in tokens
    ]
    return json.dumps(reports).encode()


async def report(
    http: httpx.AsyncClient,
    settings: Settings,
    body: bytes,
    *,
    url: str = PATH,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a report signed with GitHub's current key (`headers` override the signature)."""
    signed = {
        "Content-Type": "application/json",
        "Github-Public-Key-Identifier": KEY_ID,
        "Github-Public-Key-Signature": sign(settings, body),
        **(headers or {}),
    }
    return await http.post(url, content=body, headers=signed)
