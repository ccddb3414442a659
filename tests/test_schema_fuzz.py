"""The REST API fuzzed from its own OpenAPI document, with every kind of credential.

Schemathesis generates requests for every operation (valid and invalid data) and sends them
to the ASGI app in process. Every answer must be declared by the document (status, content
type, body schema), none may be a 5xx, and a read-only key never changes a single row.
"""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import Phase, given, strategies
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from keyhouse.app import create_app
from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_crm_account, make_rep, make_tenant
from tests.fuzzing import fuzz_settings
from tests.leaks.github import signing_keys
from tests.storage import table_checksums

EXAMPLES_PER_OPERATION = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
Headers = dict[str, str]


def _bearer(secret: str) -> Headers:
    return {"Authorization": f"Bearer {secret}"}


async def _checksum(settings: Settings) -> dict[str, tuple[int, str]]:
    database = Database(settings)
    try:
        return await table_checksums(database)
    finally:
        await database.dispose()


def _fuzz(app: FastAPI, credentials: list[Headers]) -> list[str]:
    """Every operation, `EXAMPLES_PER_OPERATION` cases each; the problems found."""
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    problems = []
    for result in schema.get_all_operations():
        operation = result.ok()
        check = _operation_check(operation.as_strategy(), credentials)
        try:
            check()
        except (AssertionError, FailureGroup) as error:
            problems.append(f"{operation.label}: {error}")
    return problems


def _operation_check(cases: Any, credentials: list[Headers]) -> Callable[[], None]:
    @given(case=cases, credential=strategies.sampled_from(credentials))
    @fuzz_settings(EXAMPLES_PER_OPERATION, phases=[Phase.explicit, Phase.generate])
    def check(case: Any, credential: Headers) -> None:
        headers = {
            name: value
            for name, value in (case.headers or {}).items()
            if name.lower() != "authorization"
        }
        case.headers = headers
        case.call_and_validate(headers=credential, checks=CHECKS)

    return check


@pytest.fixture
async def credentials(database: Database, settings: Settings) -> dict[str, Headers]:
    """Keys of an account with some data, and of another account."""
    # GitHub's public keys, as a deployment that takes leak reports has them: without the file,
    # the report endpoint's 503 would depend on whether a leak test ran first.
    assert settings.secret_scanning_keys_file is not None
    signing_keys(settings.secret_scanning_keys_file)
    tenant, other = await make_tenant(database, settings), await make_tenant(database, settings)
    await make_rep(database, tenant.account)
    await make_crm_account(database, tenant.account)
    return {
        "read_only": tenant.read,
        "full_access": tenant.write,
        "other_account": other.write,
    }


def test_the_api_keeps_its_document_and_read_only_keys_change_nothing(
    settings: Settings, credentials: dict[str, Headers]
) -> None:
    app = create_app(settings)
    unprivileged = [{}, _bearer("kh_key_garbage"), _bearer("x" * 300), credentials["read_only"]]
    privileged = [credentials["full_access"], credentials["other_account"]]
    try:
        before = asyncio.run(_checksum(settings))
        problems = _fuzz(app, unprivileged)
        after = asyncio.run(_checksum(settings))
        problems += _fuzz(app, privileged)
    finally:
        schemathesis_asgi.shutdown_lifespans()
    changed = {name for name in before if before[name] != after.get(name)}
    assert not changed, f"read-only or no credentials changed {changed}"
    assert not problems, "\n\n".join(problems)


# Requests the fuzzer once found a 5xx with, replayed on every run: (method, path, JSON body).
FOUND_BY_FUZZING = [
    ("POST", "/api/v1/reps", {"name": "Ada\x00", "email": "ada@example.com"}),
    ("PATCH", "/api/v1/reps/{rep}", {"name": "\x00"}),
    ("POST", "/api/v1/accounts", {"name": "\ud800"}),
]


@pytest.mark.parametrize(("method", "path", "body"), FOUND_BY_FUZZING)
async def test_what_the_fuzzer_once_found_stays_a_4xx(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account)
    before = await table_checksums(database)
    response = await client.request(
        method,
        path.format(rep=rep.id),
        content=json.dumps(body),
        headers={**tenant.write, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("name: contains")
    assert await table_checksums(database) == before
