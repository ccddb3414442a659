"""The one email rule of Keyhouse, for users (and so invitations) and reps alike.

An address is stored in one form: surrounding spaces dropped, then lower-cased as a whole
(local part included: no mail system we meet treats `Ana@` and `ana@` as two people), then
checked and NFC-normalised by email-validator (no deliverability lookup). Lookups compare
that same form, so `Ana@Example.com ` finds `ana@example.com`.
"""

import unicodedata
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

MAX_LENGTH = 320


class InvalidEmail(ValueError):
    """Not an email address; the message says why."""


def normalize_email(value: str) -> str:
    """The comparison form of an address (for lookups); never raises."""
    return unicodedata.normalize("NFC", value.strip().lower())


def valid_email(value: str) -> str:
    """The stored form of an email address, or InvalidEmail saying why it is not one."""
    try:
        return validate_email(normalize_email(value), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidEmail(f"not an email address ({error})") from error


def _pydantic_email(value: str) -> str:
    try:
        return valid_email(value)
    except InvalidEmail as error:
        raise PydanticCustomError("email", "{reason}", {"reason": str(error)}) from error


# The type of every email field in a request body or a CSV line.
Email = Annotated[
    str,
    Field(max_length=MAX_LENGTH, json_schema_extra={"format": "email"}),
    AfterValidator(_pydantic_email),
]
