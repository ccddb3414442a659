"""Plain per-process counts: what a request adds to a metric is one dict update.

prometheus-client takes a lock and updates a value object for every `inc()` and `observe()`
(in multiprocess mode, a memory-mapped file too), and a request touches five of them. Here
the request path only adds to dicts; the counts go to prometheus-client in batches
(`Metrics.hand_over`), when a scrape comes and, with several workers, every second. A request
is observed once, by route, method and status, and a tool call once, by tool and outcome: the
counters by status and outcome are read off those histograms at hand-over.

Only the event loop's thread updates a tally, so a dict update needs no lock.
"""

from bisect import bisect_left
from collections import Counter

from keyhouse.metrics.families import CounterFamily, HistogramFamily

Labels = tuple[str, ...]


class CounterTally(Counter[Labels]):
    """A counter's increments since the last hand-over, by label values.

    A `collections.Counter`: `tally[labels] += 1` runs in C, with no Python call per event.
    """

    def __init__(self, family: CounterFamily) -> None:
        super().__init__()
        self.family = family

    def take(self) -> dict[Labels, int]:
        """The increments so far; the tally starts again from zero."""
        counts = dict(self)
        self.clear()
        return counts


class HistogramTally:
    """A histogram's observations since the last hand-over, by label values.

    Per label values, a list: one count per bucket (not cumulative), the `+Inf` bucket's
    count, and last the sum of the observed values.
    """

    def __init__(self, family: HistogramFamily) -> None:
        self.family = family
        self.bounds = family.buckets
        self.slots: dict[Labels, list[float]] = {}

    def observe(self, labels: Labels, value: float) -> None:
        """One observation; `le` buckets, so a value equal to a bound falls in that bucket."""
        slots = self.slots.get(labels)
        if slots is None:
            slots = self.slots[labels] = [0] * (len(self.bounds) + 2)
        slots[bisect_left(self.bounds, value)] += 1
        slots[-1] += value

    def take(self) -> dict[Labels, list[float]]:
        """The observations so far; the tally starts again from none."""
        slots, self.slots = self.slots, {}
        return slots


def counted_and_merged(
    slots: dict[Labels, list[float]], kept: int
) -> tuple[dict[Labels, int], dict[Labels, list[float]]]:
    """From observations by all their labels: how many there were by all labels, and the
    histogram by the first `kept` labels (requests by status, latency by route and method)."""
    counts: dict[Labels, int] = {}
    merged: dict[Labels, list[float]] = {}
    for labels, values in slots.items():
        counts[labels] = int(sum(values[:-1]))
        into = merged.setdefault(labels[:kept], [0] * len(values))
        for index, value in enumerate(values):
            into[index] += value
    return counts, merged
