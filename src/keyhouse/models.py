"""Every table, imported in one place for Alembic and for mapper configuration."""

from keyhouse.accounts.models import Account
from keyhouse.api_keys.models import ApiKey
from keyhouse.audit.models import AuditEvent
from keyhouse.connections.models import Connection
from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.kit.orm import Base
from keyhouse.oauth.models import ConnectionToken, OAuthClient, OAuthCode
from keyhouse.reps.models import Rep
from keyhouse.users.models import User

__all__ = [
    "Account",
    "ApiKey",
    "AuditEvent",
    "Base",
    "Connection",
    "ConnectionToken",
    "CrmAccount",
    "OAuthClient",
    "OAuthCode",
    "Rep",
    "User",
]
