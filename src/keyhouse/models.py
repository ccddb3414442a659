"""Every table, imported in one place for Alembic and for mapper configuration."""

from keyhouse.accounts.models import Account
from keyhouse.activity.models import ToolCall
from keyhouse.api_keys.models import ApiKey
from keyhouse.audit.models import AuditEvent
from keyhouse.connections.models import Connection
from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.distributions.models import Distribution
from keyhouse.instances.models import Instance, RevocationClock
from keyhouse.kit.orm import Base
from keyhouse.oauth.models import ConnectionToken, OAuthClient, OAuthCode
from keyhouse.ownership.models import OwnershipChange
from keyhouse.reps.models import Rep
from keyhouse.retrievals.models import Retrieval
from keyhouse.target_books.models import TargetBook
from keyhouse.usage.models import KeyUsageDay
from keyhouse.users.models import Invitation, User
from keyhouse.web.models import WebSession

__all__ = [
    "Account",
    "ApiKey",
    "AuditEvent",
    "Base",
    "Connection",
    "ConnectionToken",
    "CrmAccount",
    "Distribution",
    "Instance",
    "Invitation",
    "KeyUsageDay",
    "OAuthClient",
    "OAuthCode",
    "OwnershipChange",
    "Rep",
    "Retrieval",
    "RevocationClock",
    "TargetBook",
    "ToolCall",
    "User",
    "WebSession",
]
