"""A new key's secret, carried once from the form that made it to the page that shows it.

Creating or rolling a key answers with a redirect (post/redirect/get), so a reload or the
back button never submits again. The secret rides along sealed (AES-GCM under a key derived
from the server secret, bound to the key's id) in a cookie that only the showing page
receives, for two minutes at most. That page deletes the cookie as it shows the secret: a
reload finds nothing to show. Nothing but the browser ever holds the sealed secret.
"""

import base64
import hashlib
import hmac
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request, Response

from keyhouse.config import Settings

COOKIE = "keyhouse_shown_once"
MAX_AGE_SECONDS = 120
NONCE_BYTES = 12


def page_path(key_id: uuid.UUID) -> str:
    """The page that shows the secret of a key just created or rolled."""
    return f"/settings/security/api-keys/{key_id}/secret"


def _cipher(settings: Settings) -> AESGCM:
    key = hmac.new(settings.secret, b"keyhouse.shown-once", hashlib.sha256).digest()
    return AESGCM(key)


def hand_over(settings: Settings, response: Response, key_id: uuid.UUID, secret: str) -> None:
    """Send `secret` sealed along with the redirect to its page."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(settings).encrypt(nonce, secret.encode(), key_id.bytes)
    response.set_cookie(
        COOKIE,
        base64.urlsafe_b64encode(nonce + sealed).decode(),
        max_age=MAX_AGE_SECONDS,
        path=page_path(key_id),
        httponly=True,
        samesite="strict",
        secure=settings.uses_https,
    )


def take(request: Request, key_id: uuid.UUID) -> str | None:
    """The secret handed over for this key; None on a reload, or a cookie not for this key."""
    sealed = request.cookies.get(COOKIE)
    if sealed is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        nonce, body = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        return _cipher(request.app.state.settings).decrypt(nonce, body, key_id.bytes).decode()
    except (ValueError, InvalidTag):
        return None


def forget(settings: Settings, response: Response, key_id: uuid.UUID) -> None:
    """Delete the handed-over secret: the page showed it, a reload must not."""
    response.delete_cookie(
        COOKIE, path=page_path(key_id), httponly=True, samesite="strict", secure=settings.uses_https
    )
