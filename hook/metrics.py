"""The workers' side of the metrics: each hook call counted, and the ``/metrics`` text.

Each worker writes its counts to its own files (hook/metrics_files.py), and a scrape of
``/metrics``, whichever worker serves it, adds up the files of all.

A call is counted once, from the facts its canonical log line holds (:meth:`Recorder.observe`).
Every label value comes from a closed set (outcomes, auth failure reasons, amr rule names,
assurance levels, the tids of PSC_TENANTS) and anything else counts as "other": no label
carries a caller's text, a user, a client id, a token or a secret.
"""

from __future__ import annotations

import fcntl
import platform
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from hook.amr import NO_RULE
from hook.config import Settings
from hook.metrics_files import (
    ReadableFilesCollector,
    locked,
    prepare,
    set_aside_counter,
    write_failed,
)
from hook.okta import HOOK_PATH
from hook.outcomes import NO_TENANT_OUTCOMES, TENANT_OUTCOMES, Outcome
from hook.tenants import NO_TENANT
from hook.version import __version__

CONTENT_TYPE = CONTENT_TYPE_LATEST
OTHER = "other"
#: The reasons each authenticator gives (hook/auth.py, oauth.py, keyset.py); a test keeps them
#: in step.
AUTH_FAILURE_REASONS = {
    "header": ("header-missing", "header-mismatch"),
    "oauth": (
        "no-bearer",
        "malformed",
        "bad-alg",
        "no-kid",
        "unknown-kid",
        "key-mismatch",
        "expired",
        "not-yet-valid",
        "bad-issuer",
        "bad-audience",
        "missing-claim",
        "bad-iat",
        "bad-signature",
        "invalid",
        "missing-scope",
        "foreign-cid",
    ),
}
KEY_FETCH_RESULTS = ("loaded", "failed")
#: The labels of psc_hook_build_info: constants of the release and the process.
BUILD = {"version": __version__, "python": platform.python_version()}
#: Okta waits 3 s. The fine buckets are where the service answers (a tenth of a millisecond
#: of work, milliseconds under load), the coarse ones where a key fetch (1 s at most) lands.
DURATION_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)

#: The metrics, by the name the code uses: (kind, name, help, label names, options).
#: prometheus_client exposes a counter ``name`` as ``name_total``.
METRICS: dict[str, tuple[type, str, str, tuple[str, ...], dict[str, Any]]] = {
    "calls": (
        Counter,
        "psc_hook_calls",
        f"Calls of {HOOK_PATH}, by outcome (other: a method other than POST).",
        ("outcome",),
        {},
    ),
    "auth_failures": (
        Counter,
        "psc_hook_auth_failures",
        "Refused authentications, by mode and reason (header,oauth: once per mode).",
        ("mode", "reason"),
        {},
    ),
    "amr_decisions": (
        Counter,
        "psc_hook_amr_decisions",
        "amr decisions, by the rule of the amr table that fired (none: no rule) and the"
        " assurance reached.",
        ("rule", "assurance"),
        {},
    ),
    "tenant_calls": (
        Counter,
        "psc_hook_tenant_calls",
        f"Calls of {HOOK_PATH} with PSC_TENANTS, by establishment (tid of the table; none: no"
        " establishment matched) and outcome.",
        ("tid", "outcome"),
        {},
    ),
    "duration": (
        Histogram,
        "psc_hook_call_duration_seconds",
        "Time from a call's arrival in a worker to its answer.",
        (),
        {"buckets": DURATION_BUCKETS_S},
    ),
    "key_fetches": (
        Counter,
        "psc_hook_jwks_fetches",
        "Fetches of the OAuth signing keys, by result.",
        ("result",),
        {},
    ),
}
_metrics: dict[str, Any] = {}


def _objects() -> dict[str, Any]:
    """The metric objects, one set per process: two would overwrite each other's counts."""
    if not _metrics:
        for key, (kind, name, documentation, labels, options) in METRICS.items():
            _metrics[key] = kind(name, documentation, labels, registry=None, **options)
    return _metrics


class BuildInfo:
    """``psc_hook_build_info{version, python} 1``: which release each instance runs (while a
    deploy rolls, say). A constant of the process: it needs no file."""

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "psc_hook_build_info", "The running release of psc-token-hook (always 1).", labels=BUILD
        )
        info.add_metric(tuple(BUILD.values()), 1)
        yield info


class Recorder:
    """Counts each hook call from its facts, and writes the exposition of all the workers."""

    def __init__(self, settings: Settings) -> None:
        self.directory = prepare(settings.metrics_dir)
        metrics = _objects()
        set_aside_counter()
        self.registry = CollectorRegistry()
        ReadableFilesCollector(self.registry, path=str(self.directory))
        self.registry.register(BuildInfo())
        # Every label value known now, so that each series exists (at 0) before its first
        # count, and a call finds its counter with one dictionary look-up.
        self.calls = {outcome: metrics["calls"].labels(outcome) for outcome in (*Outcome, OTHER)}
        self.failures = _children(
            metrics["auth_failures"],
            [
                (mode, reason)
                for mode in settings.auth_modes
                for reason in (*AUTH_FAILURE_REASONS[mode], OTHER)
            ]
            + [(OTHER, OTHER)],
        )
        decisions = {(rule.name, rule.assurance) for rule in settings.amr_table.rules}
        self.decisions = _children(
            metrics["amr_decisions"], [*sorted(decisions), (NO_RULE, "none"), (OTHER, OTHER)]
        )
        self.duration = metrics["duration"]
        tids = settings.tenants.tids() if settings.tenants else ()
        self.tenant_calls = (
            _children(
                metrics["tenant_calls"],
                [(tid, outcome) for tid in tids for outcome in TENANT_OUTCOMES]
                + [(NO_TENANT, outcome) for outcome in NO_TENANT_OUTCOMES],
            )
            if tids
            else {}
        )
        if "oauth" in settings.auth_modes:
            _children(metrics["key_fetches"], [(result,) for result in KEY_FETCH_RESULTS])

    def observe(self, status: int, seconds: float, facts: Mapping[str, Any]) -> None:
        """Count one call of the hook from the facts of its canonical log line."""
        try:
            counter = self.calls.get(facts.get("outcome"))
            if counter is None:
                counter = self.calls[Outcome.ERROR if status >= 500 else OTHER]
            counter.inc()
            self.duration.observe(seconds)
            tid = facts.get("tid")
            if tid is not None:
                tenant_counter = self.tenant_calls.get((tid, facts.get("outcome")))
                if tenant_counter is not None:
                    tenant_counter.inc()
            rule = facts.get("amr_rule")
            if rule is not None:
                decision = (rule, facts.get("assurance"))
                self.decisions.get(decision, self.decisions[(OTHER, OTHER)]).inc()
            failure = facts.get("auth_failure")
            if failure:
                self._count_failure(failure)
        except OSError as error:
            write_failed("metrics-write-failed", error)

    def _count_failure(self, failure: str) -> None:
        """``header:header-mismatch oauth:expired`` (hook/auth.py's AnyOf) counts once per mode."""
        for part in failure.split():
            mode, _, reason = part.partition(":")
            pair = (mode, reason) if (mode, reason) in self.failures else (mode, OTHER)
            self.failures.get(pair, self.failures[(OTHER, OTHER)]).inc()

    def exposition(self) -> bytes:
        """The text format of every worker's counts, those of exited workers included."""
        with locked(self.directory, fcntl.LOCK_SH):
            return generate_latest(self.registry)


def _children(metric: Any, label_values: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], Any]:
    return {labels: metric.labels(*labels) for labels in label_values}


def key_fetched(result: str) -> None:
    """Count one fetch of the OAuth signing keys (hook/keyset.py): "loaded" or "failed"."""
    if _metrics:
        label = result if result in KEY_FETCH_RESULTS else OTHER
        try:
            _metrics["key_fetches"].labels(label).inc()
        except OSError as error:
            write_failed("metrics-write-failed", error)
