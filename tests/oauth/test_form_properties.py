"""Property: any form sent to the OAuth endpoints gets an RFC-shaped answer, never a 5xx."""

import json
from typing import Any

import httpx
from hypothesis import example, given, strategies

from tests.fuzzing import fuzz_settings

FIELDS = [
    "grant_type",
    "code",
    "code_verifier",
    "redirect_uri",
    "client_id",
    "client_secret",
    "refresh_token",
    "scope",
    "resource",
    "token",
    "token_type_hint",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "state",
]
VALUES = strategies.text(max_size=60) | strategies.sampled_from(
    [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "code",
        "S256",
        "plain",
        "read write",
        "http://127.0.0.1:33418/callback",
        "kh_rt_" + "A" * 43 + "_AAAAAA",
        "\x00",  # PostgreSQL text cannot hold it: once a 500 on /oauth/revoke
        "",
    ]
)
FORMS = strategies.dictionaries(
    strategies.sampled_from(FIELDS) | strategies.text(min_size=1, max_size=12), VALUES, max_size=8
)
RFC_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
    "invalid_redirect_uri",
    "invalid_client_metadata",
    "unsupported_response_type",
    "unsupported_token_type",
    "server_error",  # allowed by the RFCs, but the 5xx check below refuses it anyway
}
JSON_VALUES = strategies.recursive(
    strategies.none()
    | strategies.booleans()
    | strategies.integers()
    | strategies.text(max_size=30),
    lambda children: (
        strategies.lists(children, max_size=3)
        | strategies.dictionaries(strategies.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
REGISTRATIONS = strategies.dictionaries(
    strategies.sampled_from(
        [
            "redirect_uris",
            "client_name",
            "token_endpoint_auth_method",
            "grant_types",
            "response_types",
            "scope",
            "client_uri",
            "logo_uri",
        ]
    ),
    JSON_VALUES | strategies.lists(strategies.text(max_size=40), max_size=3),
    max_size=6,
)


def _assert_rfc_error(response: httpx.Response, label: Any) -> None:
    assert response.status_code < 500, (label, response.status_code, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert body["error"] in RFC_ERRORS, (label, body)
        assert isinstance(body.get("error_description", ""), str | None), (label, body)


# Every form that ever failed is kept, so that `make test` replays it on every run.
@given(form=FORMS)
@example(form={"grant_type": "authorization_code", "client_id": "\x00", "code": "x"})
@example(form={"grant_type": "refresh_token", "refresh_token": "kh_rt_\x00"})
@fuzz_settings(120)
async def test_token_endpoint_answers_any_form_in_rfc_shape(
    client: httpx.AsyncClient, form: dict[str, str]
) -> None:
    response = await client.post("/oauth/token", data=form)
    assert response.status_code in {200, 400, 401}, (form, response.status_code, response.text)
    _assert_rfc_error(response, form)


@given(form=FORMS)
@example(form={"token": "\x00", "client_id": "x"})  # a 500 on PostgreSQL, once
@fuzz_settings(80)
async def test_revoke_endpoint_answers_any_form_in_rfc_shape(
    client: httpx.AsyncClient, form: dict[str, str]
) -> None:
    response = await client.post("/oauth/revoke", data=form)
    assert response.status_code in {200, 400, 401}, (form, response.status_code, response.text)
    _assert_rfc_error(response, form)


@given(body=REGISTRATIONS)
@example(body={"client_name": "\x00", "redirect_uris": ["http://127.0.0.1/cb"]})
@example(body={"client_name": "\ud800", "redirect_uris": ["http://127.0.0.1/\ud800"]})
@fuzz_settings(120)
async def test_registration_answers_any_json_in_rfc_shape(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    # Encoded as every JSON client sends it: non-ASCII (a lone surrogate too) as \\u escapes.
    response = await client.post(
        "/oauth/register", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code in {201, 400}, (body, response.status_code, response.text)
    _assert_rfc_error(response, body)


@given(form=FORMS, method=strategies.sampled_from(["GET", "POST"]))
@fuzz_settings(120)
async def test_authorize_answers_any_request_with_a_redirect_or_an_rfc_error(
    client: httpx.AsyncClient, form: dict[str, str], method: str
) -> None:
    if method == "GET":
        response = await client.get("/oauth/authorize", params=form)
    else:
        response = await client.post("/oauth/authorize", data=form)
    assert response.status_code in {302, 303, 400}, (form, response.status_code, response.text)
    if response.status_code == 400:
        _assert_rfc_error(response, form)
