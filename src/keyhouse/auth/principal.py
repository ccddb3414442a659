"""The Principal: who is calling, for which account, with what access."""

import uuid
from dataclasses import dataclass
from enum import StrEnum

from keyhouse.api_keys.models import AccessLevel
from keyhouse.audit.service import Actor

# Where the authenticator leaves the principal in a request's ASGI scope: the MCP tools read
# it there, and the access log counts the request's outcome for its key (api_keys/usage.py).
PRINCIPAL_KEY = "keyhouse.principal"


class Scope(StrEnum):
    """What a route or tool needs: `read`, or `write` (full access)."""

    READ = "read"
    WRITE = "write"


class CredentialKind(StrEnum):
    """What the caller presented."""

    API_KEY = "api_key"
    MCP_CONNECTION = "mcp_connection"
    SESSION = "session"


@dataclass(frozen=True, slots=True)
class Principal:
    """The one shape every credential turns into; routes and tools see nothing else."""

    account_id: uuid.UUID
    account_slug: str
    account_name: str
    access: AccessLevel
    credential: CredentialKind
    credential_id: uuid.UUID
    credential_name: str
    key_id: uuid.UUID | None = None  # the backing API key; none for a browser session
    user_id: uuid.UUID | None = None  # the person behind a connection or a session
    user_email: str | None = None
    is_admin: bool = False  # a signed-in admin may manage keys, connections and members
    role_allows_write: bool = False  # a connection's user could grant full access (scope challenge)
    rate_limit: str | None = None  # the backing key's own request limit; None: the default

    def allows(self, scope: Scope) -> bool:
        """Whether this principal's effective access covers `scope`."""
        return scope is Scope.READ or self.access is AccessLevel.FULL_ACCESS

    @property
    def actor_label(self) -> str:
        """How the audit log names this principal."""
        if self.user_email is not None:
            return self.user_email
        return f"api key {self.credential_name!r}"

    @property
    def actor(self) -> Actor:
        """The audit log's record of who acted."""
        return Actor(label=self.actor_label, user_id=self.user_id, key_id=self.key_id)
