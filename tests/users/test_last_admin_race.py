"""Two admins demoting (or deactivating) each other at the same moment leave one admin."""

import asyncio

import pytest
from fastapi import FastAPI

from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.factories import make_tenant, make_user
from tests.web.browsing import new_client, sign_in

PASSWORD = "correct horse battery"
ROUNDS = 3


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"role": "member"}, {"role": "member"}),
        ({"active": False}, {"active": False}),
        ({"role": "member"}, {"active": False}),
    ],
    ids=["demote-demote", "deactivate-deactivate", "demote-deactivate"],
)
async def test_two_admins_acting_on_each_other_at_once_leave_exactly_one_admin(
    app: FastAPI,
    database: Database,
    settings: Settings,
    first: dict[str, object],
    second: dict[str, object],
) -> None:
    for _ in range(ROUNDS):
        tenant = await make_tenant(database, settings)
        other, other_password = await make_user(database, tenant.account, Role.ADMIN)
        async with new_client(app) as one, new_client(app) as two:
            one_csrf = await sign_in(one, tenant.admin.email, PASSWORD)
            two_csrf = await sign_in(two, other.email, other_password)
            answers = await asyncio.gather(
                one.patch(
                    f"/api/v1/members/{other.id}", json=first, headers={"X-CSRF-Token": one_csrf}
                ),
                two.patch(
                    f"/api/v1/members/{tenant.admin.id}",
                    json=second,
                    headers={"X-CSRF-Token": two_csrf},
                ),
            )
            statuses = sorted(answer.status_code for answer in answers)
            assert statuses == [200, 409], [answer.text for answer in answers]
            refused = next(answer for answer in answers if answer.status_code == 409)
            assert refused.json()["error"] == "conflict"
            winner = one if answers[0].status_code == 200 else two
            members = (await winner.get("/api/v1/members")).json()
        admins = [m for m in members if m["role"] == "admin" and m["active"]]
        assert len(admins) == 1, members
