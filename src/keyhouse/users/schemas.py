"""What the members API shows and accepts (never a password or its hash)."""

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from keyhouse.kit.emails import Email
from keyhouse.kit.schemas import PatchInput, StrictInput
from keyhouse.users.models import Role


class MemberOut(BaseModel):
    """A member of the account."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    role: Role
    active: bool
    status: str  # active, invited (no password yet) or deactivated
    created_at: datetime


class AddedMember(MemberOut):
    """A member just added; `invitation_url` (when no password was given) is shown this once."""

    invitation_url: str | None


class NewMember(StrictInput):
    """Add a member: with a password, or without one to get an invitation link."""

    email: Email = Field(examples=["bo@acme.example"])
    role: Role = Role.MEMBER
    password: str | None = Field(default=None, max_length=1000)


class MemberChange(PatchInput):
    """Change a member's role, or deactivate (`active: false`) or reactivate them."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset({"role", "active"})

    role: Role | None = None
    active: bool | None = None
