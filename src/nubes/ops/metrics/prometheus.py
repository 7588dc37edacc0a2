"""`GET /metrics`: this process's live figures in Prometheus' text format, for a scraper holding the token
(`NUBES_METRICS_TOKEN`) or calling from an allowed network (`NUBES_METRICS_ALLOW`).

The figures come from the recorder (see `nubes.ops.metrics.recorder`) through a collector registered in a registry
of its own for each scrape, so prometheus-client's global registry (and its process metrics) stays untouched:
counters are totals since the process started, gauges the latest values, request latency a histogram per route.
The client address is the peer's, or the one a trusted proxy (`NUBES_TRUSTED_PROXIES`) forwarded.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from nubes.config import Settings
from nubes.core.crypto import equal
from nubes.core.errors import Forbidden, Unauthorized
from nubes.ops.metrics.recorder import LATENCY_BUCKETS, Key, Recorder
from nubes.ops.metrics.service import CATALOG

router = APIRouter(include_in_schema=False)


class RecorderCollector(Collector):
    """The recorder's totals and latest values, with what is still buffered, as Prometheus metric families."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def collect(self) -> Iterator[Metric]:
        """One family per metric name (its labels: the union of its series' label names)."""
        recorder = self.recorder
        counters = dict(recorder.counter_totals)
        gauges = dict(recorder.gauges)
        for sample in recorder.pending():
            key = (sample.name, sample.labels)
            if sample.kind == "counter":
                counters[key] = counters.get(key, 0.0) + sample.value
            elif not sample.name.startswith("http_request_seconds_"):
                gauges[key] = sample.value
        yield from _families(counters, CounterMetricFamily)
        yield from _families(gauges, GaugeMetricFamily)
        yield self._latency()

    def _latency(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily("http_request_seconds", "Request latency per route", labels=["route"])
        for route, (counts, seconds) in sorted(self.recorder.latency_totals.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), counts, strict=True):
                cumulative += count
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), float(cumulative)))
            family.add_metric([route], buckets, sum_value=seconds)
        return family


def _families(values: dict[Key, float], family_type: type[CounterMetricFamily] | type[GaugeMetricFamily]) -> Iterator[Metric]:
    by_name: dict[str, list[tuple[dict[str, str], float]]] = {}
    for (name, items), value in values.items():
        by_name.setdefault(name, []).append((dict(items), value))
    for name, series in sorted(by_name.items()):
        metric = CATALOG.get(name)
        label_names = sorted({key for labels, _ in series for key in labels})
        family = family_type(name, metric.help if metric else name, labels=label_names)
        for values_of, value in series:
            family.add_metric([values_of.get(key, "") for key in label_names], value)
        yield family


def scrape_allowed(request: Request, settings: Settings) -> None:
    """Let the token's holder or an allowed network through; 401 (a token is configured) or 403 otherwise."""
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if settings.metrics_token and scheme.lower() == "bearer" and equal(settings.metrics_token, token.strip()):
        return
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    networks = [ipaddress.ip_network(entry, strict=False) for entry in settings.metrics_allow.split(",") if entry]
    if address is not None and any(address in network for network in networks):
        return
    if settings.metrics_token:
        raise Unauthorized("Send the metrics token as `Authorization: Bearer <NUBES_METRICS_TOKEN>`.")
    raise Forbidden("Scrape /metrics from a network listed in NUBES_METRICS_ALLOW, or set NUBES_METRICS_TOKEN and send it.")


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """This process's metrics in Prometheus' text format."""
    scrape_allowed(request, request.app.state.settings)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RecorderCollector(request.app.state.metrics))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
