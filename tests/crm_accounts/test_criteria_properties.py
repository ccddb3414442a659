"""Property: any JSON as criteria is either valid criteria or a clear 422, never a crash."""

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, strategies
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.dialects import postgresql, sqlite

from keyhouse.config import Settings
from keyhouse.crm_accounts.criteria import (
    FIELD_KINDS,
    OPERATORS_BY_KIND,
    Criteria,
    criteria_clause,
)
from keyhouse.db import Database
from tests.factories import Tenant, make_tenant
from tests.fuzzing import fuzz_settings

CRITERIA = TypeAdapter(Criteria)
OPERATORS = sorted(set().union(*OPERATORS_BY_KIND.values()))
SCALARS = (
    strategies.none()
    | strategies.booleans()
    | strategies.integers()
    | strategies.floats(allow_nan=False, allow_infinity=False)
    | strategies.text(max_size=40)
    | strategies.sampled_from(["now-90d", "now+1w", "2026-01-01T00:00:00+00:00", "now-9999999d"])
)
JSON = strategies.recursive(
    SCALARS,
    lambda children: (
        strategies.lists(children, max_size=4)
        | strategies.dictionaries(strategies.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
# Near-valid conditions reach deeper than random JSON: known fields and operators, odd values.
CONDITION = strategies.fixed_dictionaries(
    {
        "field": strategies.sampled_from(sorted(FIELD_KINDS)) | strategies.text(max_size=12),
        "op": strategies.sampled_from(OPERATORS) | strategies.text(max_size=6),
        "value": JSON,
    }
)
ANY_CRITERIA = JSON | strategies.lists(CONDITION, max_size=5)


@given(raw=ANY_CRITERIA)
@fuzz_settings(400)
def test_any_json_is_valid_criteria_or_a_validation_error(raw: Any) -> None:
    try:
        criteria = CRITERIA.validate_python(raw)
    except ValidationError:
        return
    clause = criteria_clause(criteria, datetime.now(UTC))
    for dialect in (postgresql.dialect(), sqlite.dialect()):
        clause.compile(dialect=dialect, compile_kwargs={"literal_binds": False})


@pytest.fixture
async def tenant(database: Database, settings: Settings) -> Tenant:
    """One account for every example (hypothesis reuses function-scoped fixtures)."""
    return await make_tenant(database, settings)


@given(raw=ANY_CRITERIA)
@fuzz_settings(60)
async def test_any_json_as_criteria_over_http_is_a_result_or_a_4xx(
    client: httpx.AsyncClient, tenant: Tenant, raw: Any
) -> None:
    body = {"criteria": raw}
    response = await client.post("/api/v1/retrievals/preview", json=body, headers=tenant.read)
    assert response.status_code in {200, 422}, (raw, response.status_code, response.text)
    if response.status_code == 422:
        assert response.json()["error"] == "invalid_input"
