"""Segment criteria and ranking over CRM account fields: one model, one SQL translation.

Target books, distributions and retrievals all select accounts with these; values that are
datetimes may be relative (`now-90d`) and are resolved when the criteria are applied.
"""

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic import Field as PydanticField
from sqlalchemy import ColumnElement, UnaryExpression, and_
from sqlalchemy.orm import InstrumentedAttribute

from keyhouse.crm_accounts.models import CrmAccount


class Kind(StrEnum):
    """What values a field holds, which decides the operators it accepts."""

    TEXT = "text"
    NUMBER = "number"
    MOMENT = "moment"


FIELD_KINDS: dict[str, Kind] = {
    "name": Kind.TEXT,
    "domain": Kind.TEXT,
    "industry": Kind.TEXT,
    "region": Kind.TEXT,
    "employees": Kind.NUMBER,
    "annual_revenue": Kind.NUMBER,
    "fit_score": Kind.NUMBER,
    "tier": Kind.NUMBER,
    "last_activity_at": Kind.MOMENT,
    "created_at": Kind.MOMENT,
}
SORTABLE_FIELDS = (
    "fit_score",
    "tier",
    "employees",
    "annual_revenue",
    "last_activity_at",
    "created_at",
    "name",
)
OPERATORS_BY_KIND: dict[Kind, frozenset[str]] = {
    Kind.TEXT: frozenset({"eq", "in", "contains"}),
    Kind.NUMBER: frozenset({"eq", "in", "gte", "lte"}),
    Kind.MOMENT: frozenset({"eq", "before", "after"}),
}
Operator = Literal["eq", "in", "gte", "lte", "contains", "before", "after"]
RELATIVE_MOMENT = re.compile(r"now(?:([+-])(\d{1,5})([hdw]))?")
RELATIVE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
MAX_IN_VALUES = 1000
MAX_NUMBER = 2**63 - 1  # a BIGINT

_moment = TypeAdapter(AwareDatetime)
_number = TypeAdapter(int)


def _column(field: str) -> InstrumentedAttribute[Any]:
    column: InstrumentedAttribute[Any] = getattr(CrmAccount, field)
    return column


def resolve_moment(value: str, now: datetime) -> datetime:
    """An ISO datetime with offset, or `now`, `now-90d`, `now+12h`, `now-2w`, as a datetime."""
    match = RELATIVE_MOMENT.fullmatch(value.strip())
    if match is None:
        return _moment.validate_python(value)
    sign, amount, unit = match.groups()
    if sign is None:
        return now
    delta = timedelta(**{RELATIVE_UNITS[unit]: int(amount)})
    return now - delta if sign == "-" else now + delta


class Condition(BaseModel):
    """One condition on an account field; a list of them must all hold."""

    model_config = ConfigDict(extra="forbid")

    field: str = PydanticField(description="An account field, e.g. `fit_score` or `region`.")
    op: Operator
    value: Any = PydanticField(
        description="A string, number, ISO datetime or `now-90d`; a list for `in`; "
        "null with `eq` matches an empty field."
    )

    @field_validator("field")
    @classmethod
    def _known_field(cls, field: str) -> str:
        if field not in FIELD_KINDS:
            raise ValueError(f"unknown account field {field!r}; use one of {sorted(FIELD_KINDS)}")
        return field

    @model_validator(mode="after")
    def _operator_fits_field(self) -> Self:
        kind = FIELD_KINDS[self.field]
        if self.op not in OPERATORS_BY_KIND[kind]:
            allowed = ", ".join(sorted(OPERATORS_BY_KIND[kind]))
            raise ValueError(f"{self.field}: operator {self.op!r} does not apply; use {allowed}")
        self.value = _checked_value(self.field, kind, self.op, self.value)
        return self


def _checked_value(field: str, kind: Kind, op: str, value: Any) -> Any:
    if op == "eq" and value is None:
        return None
    if op == "in":
        if not isinstance(value, list) or not 0 < len(value) <= MAX_IN_VALUES:
            raise ValueError(f"{field}: `in` takes a list of 1 to {MAX_IN_VALUES} values")
        return [_checked_scalar(field, kind, item) for item in value]
    return _checked_scalar(field, kind, value)


def _checked_scalar(field: str, kind: Kind, value: Any) -> Any:
    try:
        if kind is Kind.NUMBER:
            if isinstance(value, bool):
                raise ValueError("a boolean")
            number = _number.validate_python(value, strict=True)
            if abs(number) > MAX_NUMBER:
                raise ValueError("out of range")
            return number
        if not isinstance(value, str):
            raise ValueError("not a string")
        if kind is Kind.MOMENT:
            resolve_moment(value, datetime.now(UTC)).astimezone(UTC)
        return value
    except (ValidationError, ValueError, OverflowError) as error:
        expected = {
            Kind.NUMBER: "an integer",
            Kind.TEXT: "a string",
            Kind.MOMENT: "an ISO datetime with offset or `now-90d`",
        }[kind]
        raise ValueError(f"{field}: {value!r} is not {expected}") from error


class SortKey(BaseModel):
    """One ranking key: a sortable field and a direction; empty values always come last."""

    model_config = ConfigDict(extra="forbid")

    field: str
    direction: Literal["asc", "desc"] = "desc"

    @field_validator("field")
    @classmethod
    def _sortable(cls, field: str) -> str:
        if field not in SORTABLE_FIELDS:
            raise ValueError(f"cannot rank by {field!r}; use one of {list(SORTABLE_FIELDS)}")
        return field


Criteria = list[Condition]
Ranking = list[SortKey]


def criteria_clause(criteria: Criteria, now: datetime) -> ColumnElement[bool]:
    """The SQL condition that holds when every condition does (true for no conditions)."""
    return and_(True, *(_condition_clause(condition, now) for condition in criteria))


def _condition_clause(condition: Condition, now: datetime) -> ColumnElement[bool]:
    column = _column(condition.field)
    value = condition.value
    clause: ColumnElement[bool]
    if condition.op == "eq":
        clause = column.is_(None) if value is None else column == _bound(condition, value, now)
    elif condition.op == "in":
        clause = column.in_([_bound(condition, item, now) for item in value])
    elif condition.op == "contains":
        clause = column.icontains(value, autoescape=True)
    else:
        bound = _bound(condition, value, now)
        clause = {
            "gte": column >= bound,
            "after": column > bound,
            "lte": column <= bound,
            "before": column < bound,
        }[condition.op]
    return clause


def _bound(condition: Condition, value: Any, now: datetime) -> Any:
    if FIELD_KINDS[condition.field] is Kind.MOMENT:
        return resolve_moment(value, now)
    return value


def ranking_order(ranking: Ranking) -> list[UnaryExpression[Any]]:
    """ORDER BY terms for a ranking, then the id so that equal ranks have a stable order."""
    terms = []
    for key in ranking:
        column = _column(key.field)
        ordered = column.desc() if key.direction == "desc" else column.asc()
        terms.append(ordered.nulls_last())
    terms.append(CrmAccount.id.asc())
    return terms


def criteria_json(criteria: Criteria) -> list[dict[str, Any]]:
    """Criteria as stored in a JSON column (relative moments stay relative)."""
    return [condition.model_dump() for condition in criteria]


def ranking_json(ranking: Ranking) -> list[dict[str, Any]]:
    """A ranking as stored in a JSON column."""
    return [key.model_dump() for key in ranking]


def load_criteria(stored: list[dict[str, Any]]) -> Criteria:
    """Criteria read back from a JSON column."""
    return [Condition.model_validate(item) for item in stored]


def load_ranking(stored: list[dict[str, Any]]) -> Ranking:
    """A ranking read back from a JSON column."""
    return [SortKey.model_validate(item) for item in stored]
