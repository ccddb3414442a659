"""Metrics with `--workers N`: every worker writes its samples where a scrape can sum them."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from keyhouse.config import Settings

ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_directory(settings: Settings, workers: int) -> Iterator[None]:
    """A fresh, private PROMETHEUS_MULTIPROC_DIR for the workers' lifetime, then removed.

    prometheus-client reads the variable when it is imported, so it is set here, before
    uvicorn starts the workers. One process needs none; a directory the operator set is kept
    as it is (empty it before each start, as prometheus-client asks).
    """
    if workers == 1 or settings.metrics_token is None or ENV in os.environ:
        yield
        return
    directory = tempfile.mkdtemp(prefix="keyhouse-metrics-")
    os.environ[ENV] = directory
    try:
        yield
    finally:
        os.environ.pop(ENV, None)
        shutil.rmtree(directory, ignore_errors=True)
