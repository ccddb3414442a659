"""A realistic demo workspace: reps, target books, thousands of accounts, an admin and a member."""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts import service as accounts
from keyhouse.accounts.models import Account
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.reps.models import Rep
from keyhouse.target_books.models import TargetBook
from keyhouse.users import service as users
from keyhouse.users.models import Role

DEMO_ACCOUNT_NAME = "Acme Revenue"
ADMIN_EMAIL = "admin@acme-revenue.example"
ADMIN_PASSWORD = "keyhouse-admin"
MEMBER_EMAIL = "member@acme-revenue.example"
MEMBER_PASSWORD = "keyhouse-member"

FIRST_NAMES = [
    "Ava",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Iris",
    "Jonas",
    "Kai",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Adler",
    "Brooks",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hayes",
    "Ito",
    "Jensen",
    "Kim",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Reyes",
    "Silva",
    "Tanaka",
    "Umar",
    "Vance",
    "Walsh",
    "Young",
    "Zimmer",
]
NAME_STARTS = [
    "North",
    "Blue",
    "Iron",
    "Summit",
    "Bright",
    "Clear",
    "Silver",
    "Granite",
    "Harbor",
    "Pioneer",
    "Cedar",
    "Atlas",
    "Nova",
    "Vertex",
    "Beacon",
    "Crescent",
    "Falcon",
    "Maple",
    "Quantum",
    "Redwood",
    "Sterling",
    "Terra",
    "Union",
    "Vista",
    "Willow",
    "Zenith",
]
NAME_ENDS = [
    "Logistics",
    "Health",
    "Analytics",
    "Systems",
    "Foods",
    "Energy",
    "Robotics",
    "Capital",
    "Labs",
    "Networks",
    "Retail",
    "Software",
    "Manufacturing",
    "Bio",
    "Media",
    "Security",
    "Cloud",
    "Motors",
    "Partners",
    "Works",
]
INDUSTRIES = {
    "Software": 0.22,
    "Financial Services": 0.12,
    "Healthcare": 0.12,
    "Manufacturing": 0.14,
    "Retail": 0.10,
    "Logistics": 0.08,
    "Energy": 0.06,
    "Media": 0.06,
    "Education": 0.05,
    "Biotech": 0.05,
}
REGIONS = {"NA-East": 0.3, "NA-West": 0.25, "EMEA": 0.25, "APAC": 0.12, "LATAM": 0.08}
# (name, capacity, criteria, share of the active reps); the last few reps stay without a book.
TARGET_BOOKS = (
    ("Enterprise", 60, [{"field": "employees", "op": "gte", "value": 1000}], 0.2),
    (
        "Mid-Market",
        90,
        [
            {"field": "employees", "op": "gte", "value": 100},
            {"field": "employees", "op": "lte", "value": 999},
        ],
        0.35,
    ),
    ("SMB", 120, [{"field": "employees", "op": "lte", "value": 99}], 0.35),
)


@dataclass(frozen=True, slots=True)
class DemoWorkspace:
    """What `keyhouse demo` made, for printing."""

    account: Account
    reps: int
    crm_accounts: int


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _rep_rows(rng: random.Random, account_id: uuid.UUID, count: int) -> list[dict[str, Any]]:
    rows = []
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        rows.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "account_id": account_id,
                "name": f"{first} {last}",
                "email": f"{first}.{last}.{index}@acme-revenue.example".lower(),
                "active": rng.random() > 0.05,
            }
        )
    return rows


def _crm_account_row(
    rng: random.Random, account_id: uuid.UUID, index: int, owners: list[uuid.UUID], now: datetime
) -> dict[str, Any]:
    name = f"{rng.choice(NAME_STARTS)} {rng.choice(NAME_ENDS)}"
    employees = int(rng.lognormvariate(5.0, 1.6)) + 5
    fit = max(0, min(100, int(rng.gauss(55, 22))))
    active_days = rng.expovariate(1 / 60)
    return {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "account_id": account_id,
        "name": f"{name} {index}" if index % 7 == 0 else name,
        "domain": f"{name.replace(' ', '').lower()}{index}.example",
        "industry": _pick(rng, INDUSTRIES),
        "region": _pick(rng, REGIONS),
        "employees": employees,
        "annual_revenue": employees * rng.randint(80_000, 400_000),
        "fit_score": fit,
        "tier": 1 + min(4, (100 - fit) // 20),
        "last_activity_at": None if active_days > 365 else now - timedelta(days=active_days),
        "owner_rep_id": rng.choice(owners) if rng.random() < 0.6 else None,
    }


def _assign_books(
    rng: random.Random, account_id: uuid.UUID, rep_rows: list[dict[str, Any]], session: AsyncSession
) -> None:
    active = [row for row in rep_rows if row["active"]]
    start = 0
    for name, capacity, criteria, share in TARGET_BOOKS:
        book_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        session.add(
            TargetBook(
                id=book_id,
                account_id=account_id,
                name=name,
                max_capacity=capacity,
                criteria=criteria,
            )
        )
        count = round(len(active) * share)
        for row in active[start : start + count]:
            row["target_book_id"] = book_id
        start += count
    for row in rep_rows:
        row.setdefault("target_book_id", None)


async def build(
    session: AsyncSession, *, seed: int = 7, reps: int = 40, crm_accounts: int = 5000
) -> DemoWorkspace:
    """Create the demo account, its two users, reps and accounts (deterministic per seed)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    account, _admin = await accounts.create(
        session,
        COMMAND_LINE,
        name=DEMO_ACCOUNT_NAME,
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
    )
    await users.add(
        session,
        COMMAND_LINE,
        account=account,
        email=MEMBER_EMAIL,
        role=Role.MEMBER,
        password=MEMBER_PASSWORD,
    )
    rep_rows = _rep_rows(rng, account.id, reps)
    _assign_books(rng, account.id, rep_rows, session)
    await session.flush()
    await session.execute(insert(Rep), rep_rows)
    owners = [row["id"] for row in rep_rows if row["active"]]
    now = datetime.now(UTC)
    rows = [_crm_account_row(rng, account.id, i, owners, now) for i in range(crm_accounts)]
    for start in range(0, len(rows), 1000):
        await session.execute(insert(CrmAccount), rows[start : start + 1000])
    return DemoWorkspace(account=account, reps=reps, crm_accounts=crm_accounts)
