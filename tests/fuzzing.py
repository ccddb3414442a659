"""How hard the property and schema fuzzers try.

`make test` must give the same verdict on every run, so there they are derandomised (the
seed is fixed by each test's own name) with a bounded number of examples, and use no example
database. `make fuzz` sets KEYHOUSE_FUZZ=long: random seeds, many more examples, and
Hypothesis' example database, which replays what failed before. A failure found there is
copied into the test as an `@example` (or a regression case), so `make test` keeps it.
"""

import os
from typing import Any

from hypothesis import HealthCheck, settings

LONG_RUN = os.environ.get("KEYHOUSE_FUZZ") == "long"
LONG_RUN_FACTOR = int(os.environ.get("KEYHOUSE_FUZZ_FACTOR", "10"))


def fuzz_settings(examples: int, **options: Any) -> settings:
    """`examples` fixed examples in `make test`; many random ones in `make fuzz`."""
    fixed = {} if LONG_RUN else {"derandomize": True, "database": None}
    return settings(
        max_examples=examples * (LONG_RUN_FACTOR if LONG_RUN else 1),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        **fixed,
        **options,
    )
