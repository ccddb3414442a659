"""Process-memory cache of verified credentials, so a warm verification touches no database."""

import uuid
from dataclasses import dataclass

from keyhouse.auth.principal import Principal
from keyhouse.kit.tokens import TokenKind

MAX_ENTRIES = 200_000


@dataclass(frozen=True, slots=True)
class CachedCredential:
    """A credential that was valid when loaded; `expires_at` is epoch seconds or None."""

    principal: Principal
    expires_at: float | None
    kind: TokenKind  # what the token is, so a cache hit still answers "accepted here?"


class CredentialCache:
    """Positive cache keyed by the credential's keyed hash.

    `generation` guards against a load that races an invalidation: a loader reads the
    generation before its database read and `put` drops the entry if anything was
    invalidated meanwhile, so a revoke can never be undone by a stale load.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.generation = 0
        self._max_entries = max_entries
        self._by_hash: dict[str, CachedCredential] = {}
        self._hashes_by_key: dict[uuid.UUID, set[str]] = {}
        # Lookups answered here, for the metrics: counted in place, since a call to the
        # metrics costs ~1 µs on the request path (bench/README.md, "Recording").
        self.hits = 0

    def get(self, secret_hash: str) -> CachedCredential | None:
        """The cached credential for this hash, if any."""
        found = self._by_hash.get(secret_hash)
        if found is not None:
            self.hits += 1
        return found

    def put(self, secret_hash: str, credential: CachedCredential, generation: int) -> None:
        """Cache a credential loaded while the cache was at `generation`."""
        if generation != self.generation:
            return
        if len(self._by_hash) >= self._max_entries:
            self.clear()
        self._by_hash[secret_hash] = credential
        if credential.principal.key_id is not None:
            self._hashes_by_key.setdefault(credential.principal.key_id, set()).add(secret_hash)

    def forget(self, key_ids: set[uuid.UUID]) -> None:
        """Drop every credential of these keys (a connection's tokens all share its key)."""
        self.generation += 1
        for key_id in key_ids:
            for secret_hash in self._hashes_by_key.pop(key_id, ()):
                self._by_hash.pop(secret_hash, None)

    def clear(self) -> None:
        """Drop everything (used when invalidations may have been missed)."""
        self.generation += 1
        self._by_hash.clear()
        self._hashes_by_key.clear()

    def __len__(self) -> int:
        return len(self._by_hash)
