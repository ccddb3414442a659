"""The Principal: who is calling, for which account, with what access."""

import uuid
from dataclasses import dataclass
from enum import StrEnum

from keyhouse.api_keys.models import AccessLevel, KeyKind


class Scope(StrEnum):
    """What a route or tool needs: `read`, or `write` (full access)."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class Principal:
    """The one shape every credential turns into; routes and tools see nothing else."""

    account_id: uuid.UUID
    account_slug: str
    account_name: str
    access: AccessLevel
    key_id: uuid.UUID
    key_name: str
    key_kind: KeyKind

    def allows(self, scope: Scope) -> bool:
        """Whether this principal's effective access covers `scope`."""
        return scope is Scope.READ or self.access is AccessLevel.FULL_ACCESS

    @property
    def actor_label(self) -> str:
        """How the audit log names this principal."""
        return f"api key {self.key_name!r}"
