"""Properties of the token format: only issued keys verify; a checksum catches any typo."""

import httpx
import pytest
from hypothesis import given, strategies

from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.kit import tokens
from keyhouse.kit.tokens import BASE62, TokenKind
from tests.factories import Tenant, make_tenant
from tests.fuzzing import fuzz_settings

KINDS = strategies.sampled_from(list(TokenKind))
# Printable ASCII, as an HTTP header can carry it; plus token-shaped strings.
HEADER_TEXT = strategies.text(
    strategies.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=120
)
TOKEN_SHAPED = strategies.builds(
    lambda kind, body, checksum: f"kh_{kind.value}_{body}_{checksum}",
    KINDS,
    strategies.text(BASE62, min_size=43, max_size=43),
    strategies.text(BASE62, min_size=6, max_size=6),
)


@given(text=strategies.text(max_size=120) | TOKEN_SHAPED)
@fuzz_settings(1000)
def test_no_string_but_a_well_formed_token_passes_the_format_check(text: str) -> None:
    kind = tokens.parse_kind(text)
    if kind is not None:
        body = text.rsplit("_", 1)[0]
        assert text.startswith(f"kh_{kind.value}_") and text == f"{body}_{tokens._checksum(body)}"


@given(
    kind=KINDS,
    position=strategies.integers(min_value=0, max_value=200),
    replacement=strategies.characters(codec="utf-8"),
)
@fuzz_settings(1000)
def test_the_checksum_catches_any_single_character_change(
    kind: TokenKind, position: int, replacement: str
) -> None:
    token = tokens.generate(kind)
    position %= len(token)
    if token[position] == replacement:
        return
    mistyped = token[:position] + replacement + token[position + 1 :]
    assert tokens.parse_kind(mistyped) is None, mistyped


@pytest.fixture
async def tenant(database: Database, settings: Settings) -> Tenant:
    """One account for every example (hypothesis reuses function-scoped fixtures)."""
    return await make_tenant(database, settings)


@given(text=HEADER_TEXT | TOKEN_SHAPED)
@fuzz_settings(150)
async def test_only_issued_keys_authenticate(
    client: httpx.AsyncClient, tenant: Tenant, text: str
) -> None:
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"})
    if text in {tenant.read_key, tenant.write_key}:
        assert response.status_code == 200
        return
    assert response.status_code in {400, 401}, (text, response.status_code, response.text)
    assert response.json()["error"] in {"invalid_token", "invalid_request", "unauthorized"}
    issued = await client.get("/api/v1/me", headers=tenant.read)
    assert issued.status_code == 200
