"""prometheus-client's side: the counters that take each process's counts, and the text.

The request path counts in plain dicts (`tallies.py`); `Metrics.hand_over` adds those counts
here with `Counter.inc(n)`. A histogram is handed over as two counters, its per-bucket counts
(label `le`) and its sum, and a scrape shows it rebuilt as the histogram it is. Counters are
what prometheus-client's multiprocess mode adds up, so with `keyhouse serve --workers N`
(every worker writing to `PROMETHEUS_MULTIPROC_DIR`, set by `serve`) a scrape, whichever
worker answers it, returns the sum over all workers. The database pool is read at scrape time
from the answering process.
"""

import os
from collections.abc import Iterable, Iterator
from itertools import accumulate

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy.ext.asyncio import AsyncEngine

from keyhouse.metrics.families import COUNTERS, HISTOGRAMS, CounterFamily, HistogramFamily
from keyhouse.metrics.tallies import Labels

CONTENT_TYPE = CONTENT_TYPE_LATEST
# The two counters a histogram is handed over as; a scrape never shows them as such.
IN_BUCKET, SUM = "_in_bucket", "_observed_sum"


class PoolCollector(Collector):
    """Connections of the database pool in use and idle, read when Prometheus scrapes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._pool = engine.sync_engine.pool

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The pool's figures now (pools without a count, such as NullPool, report none)."""
        checked_out = getattr(self._pool, "checkedout", None)
        idle = getattr(self._pool, "checkedin", None)
        if checked_out is None or idle is None:
            return
        gauge = GaugeMetricFamily(
            "keyhouse_db_pool_connections",
            "Database connections of this process's pool, by state.",
            labels=["state"],
        )
        gauge.add_metric(["in_use"], float(checked_out()))
        gauge.add_metric(["idle"], float(idle()))
        yield gauge


class HistogramsRebuilt(Collector):
    """Every metric of `source` as it is, except each histogram's two counters: those are
    put back together as the histogram (cumulative `le` buckets, count and sum)."""

    def __init__(self, source: Collector) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        """The source's metrics, histograms rebuilt."""
        found = {metric.name: metric for metric in self._source.collect()}
        for family in HISTOGRAMS:
            in_bucket = found.pop(family.name + IN_BUCKET, None)
            sums = found.pop(family.name + SUM, None)
            if in_bucket is not None and sums is not None:
                yield _histogram(family, in_bucket, sums)
        yield from found.values()


def _le_labels(family: HistogramFamily) -> list[str]:
    """Each bucket's `le`, written as prometheus-client writes it (`1.0`, `+Inf`)."""
    written: list[str] = [floatToGoString(bound) for bound in family.buckets]  # type: ignore[no-untyped-call]
    return [*written, "+Inf"]


def _totals(metric: Metric, labels: Iterable[str]) -> Iterator[tuple[Labels, str, float]]:
    """Each `_total` sample: its family labels, its `le` (if any) and its value."""
    names = tuple(labels)
    for sample in metric.samples:
        if sample.name.endswith("_total"):
            values = tuple(sample.labels[name] for name in names)
            yield values, sample.labels.get("le", ""), sample.value


def _histogram(family: HistogramFamily, in_bucket: Metric, sums: Metric) -> Metric:
    counts: dict[Labels, dict[str, float]] = {}
    for labels, le, count in _totals(in_bucket, family.labels):
        counts.setdefault(labels, {})[le] = count
    bounds = _le_labels(family)
    histogram = HistogramMetricFamily(family.name, family.help, labels=family.labels)
    for labels, _, total in _totals(sums, family.labels):
        in_each = counts.get(labels, {})
        cumulative = accumulate(in_each.get(le, 0.0) for le in bounds)
        histogram.add_metric(list(labels), list(zip(bounds, cumulative, strict=True)), total)
    return histogram


class Instruments:
    """The counters every process hands its counts to, on a registry of this app's own."""

    def __init__(self, engine: AsyncEngine | None) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess = "PROMETHEUS_MULTIPROC_DIR" in os.environ
        self._engine = engine
        self._counters = {family.name: self._counter(family) for family in COUNTERS}
        for family in HISTOGRAMS:
            in_bucket = CounterFamily(family.name + IN_BUCKET, family.help, (*family.labels, "le"))
            self._counters[in_bucket.name] = self._counter(in_bucket)
            self._counters[family.name + SUM] = self._counter(
                CounterFamily(family.name + SUM, family.help, family.labels)
            )

    def _counter(self, family: CounterFamily) -> Counter:
        return Counter(family.name, family.help, family.labels, registry=self.registry)

    def add_counts(self, family: CounterFamily, counts: dict[Labels, int]) -> None:
        """Add a counter's increments, by label values."""
        counter = self._counters[family.name]
        for labels, amount in counts.items():
            (counter.labels(*labels) if labels else counter).inc(amount)

    def add_observations(self, family: HistogramFamily, slots: dict[Labels, list[float]]) -> None:
        """Add a histogram's observations: per label values, counts per bucket, then the sum."""
        in_bucket = self._counters[family.name + IN_BUCKET]
        sums = self._counters[family.name + SUM]
        bounds = _le_labels(family)
        for labels, values in slots.items():
            for le, count in zip(bounds, values[:-1], strict=True):
                if count:
                    in_bucket.labels(*labels, le).inc(count)
            sums.labels(*labels).inc(values[-1])

    def exposition(self) -> bytes:
        """Every metric as Prometheus text, summed over the workers when there are several."""
        source: Collector = self.registry
        if self.multiprocess:
            source = MultiProcessCollector(None)  # type: ignore[no-untyped-call]
        exposed = CollectorRegistry()
        exposed.register(HistogramsRebuilt(source))
        if self._engine is not None:
            exposed.register(PoolCollector(self._engine))
        return generate_latest(exposed)
