"""Audit events in words for people: “Revoked API key “Nightly sync””, not codes and reprs.

The stored event keeps its machine form (action code, details as JSON) for the API and the
export; only the page reads it this way. An action without a sentence here (a newer one)
still reads as words: its name, and its details without empty values or ids.
"""

import uuid
from datetime import datetime
from typing import Any

from keyhouse.audit.models import AuditEvent
from keyhouse.web.templates import when

SENTENCES = {
    "account.created": "Created the account",
    "api_key.created": "Created API key “{name}” with {access_level}",
    "api_key.revoked": "Revoked API key “{name}”",
    "api_key.rate_limit_set": "Set the request limit of API key “{name}” to {rate_limit}",
    "connection.created": "Connected {client} with {access_level}",
    "connection.disconnected": "Disconnected {client} of {user_id}",
    "connection.replaced": "Ended {client} of {user_id}: replaced by a new connection",
    "connection.revoked_by_client": "{client} of {user_id} disconnected itself",
    "connection.revoked_on_code_replay": "Ended {client} of {user_id}: a sign-in code was reused",
    "connection.revoked_on_token_reuse": "Ended {client} of {user_id}: a refresh token was reused",
    "connection.user_deactivated": "Ended {client} of {user_id}: the user was deactivated",
    "user.added": "Added {email} as {role}",
    "user.role_changed": "Changed {email} from {from} to {to}",
    "user.deactivated": "Deactivated {email}",
    "user.reactivated": "Reactivated {email}",
    "user.invited": "Invited {email} (the link works until {expires_at})",
    "user.invitation_accepted": "{email} accepted the invitation",
    "user.signed_in": "Signed in from {address}",
    "user.signed_out": "Signed out",
    "user.sign_in_failed": "Failed sign-in from {address}: {reason}",
}
SUBJECTS = {
    "api_key": "API key",
    "connection": "Connection",
    "user": "Member",
    "account": "Account",
}
VALUES = {
    "read_only": "read-only access",
    "full_access": "full access",
    "admin": "admin",
    "member": "member",
    "wrong_password": "wrong password",
    "deactivated": "the member is deactivated",
}
EMPTY = {"rate_limit": "the default"}
QUOTES = "'\""


class _Words(dict[str, str]):
    """Details in words; a name a sentence asks for but the event lacks reads as a dash."""

    def __missing__(self, key: str) -> str:
        return "—"


def action_name(action: str) -> str:
    """`api_key.revoked` → `API key revoked`."""
    subject, _, verb = action.partition(".")
    return (
        f"{SUBJECTS.get(subject, subject.replace('_', ' ').capitalize())} {verb.replace('_', ' ')}"
    )


def describe(event: AuditEvent, emails: dict[uuid.UUID, str]) -> str:
    """One sentence for the event, naming people by email rather than by id."""
    words = _Words({name: _word(name, value, emails) for name, value in event.details.items()})
    sentence = SENTENCES.get(event.action)
    if sentence is not None:
        return sentence.format_map(words)
    shown = [f"{name.replace('_', ' ')}: {value}" for name, value in words.items() if value]
    return " · ".join([action_name(event.action), *shown])


def actor_name(event: AuditEvent, emails: dict[uuid.UUID, str]) -> str:
    """Who acted: a member's email, `API key “name”`, or `command line`."""
    if event.actor_user_id is not None and event.actor_user_id in emails:
        return emails[event.actor_user_id]
    if event.actor.startswith("api key "):
        return f"API key “{event.actor.removeprefix('api key ').strip(QUOTES)}”"
    return event.actor


def _word(name: str, value: Any, emails: dict[uuid.UUID, str]) -> str:
    if value is None:
        return EMPTY.get(name, "")
    if name.endswith("user_id"):
        return _email(value, emails)
    if name.endswith("_at") and isinstance(value, str):
        return _moment(value)
    return VALUES.get(str(value), str(value))


def _email(value: Any, emails: dict[uuid.UUID, str]) -> str:
    try:
        return emails.get(uuid.UUID(str(value)), "a former member")
    except ValueError:
        return "a former member"


def _moment(value: str) -> str:
    try:
        return when(datetime.fromisoformat(value))
    except ValueError:
        return value
