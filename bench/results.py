"""Figures, their targets and the regression check. Pure code: no database, no timing.

A figure is one measured value next to its baseline, measured in the same run on the same data.
The ratio is value / baseline. `better` says which direction is good ("lower" for times, "higher"
for rates); targets are either on the value itself or on the ratio.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

AVAILABLE = "ok"
NOT_AVAILABLE = "not available"
FAILED = "failed"

# A ratio that moves by more than this factor in the wrong direction is a regression.
REGRESSION_FACTOR = 1.25


@dataclass
class Target:
    """`on` is "value" or "ratio"; `op` is "<=" or ">="; `label` is how the report states it."""

    on: str
    op: str
    limit: float
    label: str

    def met_by(self, figure):
        measured = figure.value if self.on == "value" else figure.ratio
        if measured is None:
            return None
        return measured <= self.limit if self.op == "<=" else measured >= self.limit


@dataclass
class Figure:
    part: str
    name: str
    value: float | None = None
    unit: str = ""
    baseline: float | None = None
    baseline_name: str = ""
    better: str = "lower"
    targets: list = field(default_factory=list)
    status: str = AVAILABLE
    note: str = ""

    @property
    def key(self):
        return f"{self.part}: {self.name}"

    @property
    def ratio(self):
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def target_met(self):
        """True/False when every target could be judged, None when there is nothing to judge."""
        verdicts = [t.met_by(self) for t in self.targets]
        if not verdicts or self.status != AVAILABLE or any(v is None for v in verdicts):
            return None
        return all(verdicts)

    def to_dict(self):
        data = asdict(self)
        data["ratio"] = self.ratio
        data["target_met"] = self.target_met
        return data

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        data.pop("ratio", None)
        data.pop("target_met", None)
        data["targets"] = [Target(**t) for t in data.get("targets", [])]
        return cls(**data)


def not_available(part, name, reason, *, unit="", targets=()):
    return Figure(part=part, name=name, unit=unit, status=NOT_AVAILABLE, note=reason, targets=list(targets))


def failed(part, name, error, *, unit="", targets=()):
    return Figure(part=part, name=name, unit=unit, status=FAILED, note=str(error)[:500], targets=list(targets))


@dataclass
class Results:
    meta: dict = field(default_factory=dict)
    figures: list = field(default_factory=list)
    profiles: dict = field(default_factory=dict)  # title -> text (top entries of a profile)
    notes: list = field(default_factory=list)

    def add(self, figure):
        self.figures.append(figure)
        return figure

    def to_dict(self):
        return {
            "meta": self.meta,
            "figures": [f.to_dict() for f in self.figures],
            "profiles": self.profiles,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data):
        return cls(
            meta=data.get("meta", {}),
            figures=[Figure.from_dict(f) for f in data.get("figures", [])],
            profiles=data.get("profiles", {}),
            notes=data.get("notes", []),
        )

    def save(self, path):
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=False, default=str) + "\n")

    @classmethod
    def load(cls, path):
        return cls.from_dict(json.loads(Path(path).read_text()))


@dataclass
class Regression:
    key: str
    old_ratio: float
    new_ratio: float
    better: str

    @property
    def worse_by(self):
        """How many times worse the new ratio is (1.4 means 40% worse)."""
        if self.better == "lower":
            return self.new_ratio / self.old_ratio
        return self.old_ratio / self.new_ratio

    def describe(self):
        return (
            f"{self.key}: ratio {self.old_ratio:.2f} -> {self.new_ratio:.2f} "
            f"({(self.worse_by - 1) * 100:.0f}% worse; {self.better} is better)"
        )


def compare(old, new, *, factor=REGRESSION_FACTOR):
    """Regressions of `new` against `old` (both Results): ratios worse by more than `factor`.

    Only ratios are compared, never raw times, because the machines are shared and noisy; a
    figure missing from either side (feature not yet there, or failed) is listed separately.
    """
    old_by_key = {f.key: f for f in old.figures}
    regressions, unmatched = [], []
    for fig in new.figures:
        before = old_by_key.get(fig.key)
        if before is None or before.ratio is None or fig.ratio is None:
            if fig.ratio is not None or (before is not None and before.ratio is not None):
                unmatched.append(fig.key)
            continue
        if before.ratio <= 0 or fig.ratio <= 0:
            continue
        reg = Regression(fig.key, before.ratio, fig.ratio, fig.better)
        if reg.worse_by > factor:
            regressions.append(reg)
    return regressions, unmatched
