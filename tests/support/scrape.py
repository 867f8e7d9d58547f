"""A ``/metrics`` answer parsed into its samples, for the metrics and alerting tests."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    """The samples of a ``/metrics`` answer; ``scrape(name, label=value)`` is one value."""

    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]

    @classmethod
    def parse(cls, text: str) -> Scrape:
        return cls(
            {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
            }
        )

    def __call__(self, name: str, **labels: str) -> float:
        return self.samples[(name, tuple(sorted(labels.items())))]

    def label_values(self) -> set[str]:
        """Every label's values, the histogram's bucket bounds (``le``) aside."""
        return {value for _, labels in self.samples for name, value in labels if name != "le"}
