"""The one table `scripts/bench --peers` prints: per figure, the median over the rounds for Dovecot
direct and for each proxy, each proxy's ratio to the best proxy and, where it means something,
to direct. Latency figures of proxies are the time added over direct (per round, then median).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class Figure:
    key: str
    label: str
    lower_is_better: bool
    vs_direct: bool  # the direct value is comparable (a rate, a latency)
    added: bool = False  # a latency: proxies show the time added over direct
    samples: dict[str, dict[int, float]] = field(default_factory=dict)  # target -> round -> value

    def add(self, target: str, rnd: int, value: float) -> None:
        self.samples.setdefault(target, {})[rnd] = value

    def median(self, target: str) -> float | None:
        got = self.samples.get(target)
        return statistics.median(got.values()) if got else None

    def shown(self, target: str) -> float | None:
        """What the table shows: the median, or for a latency the median added over direct."""
        if not self.added or target == "direct":
            return self.median(target)
        direct, mine = self.samples.get("direct", {}), self.samples.get(target, {})
        diffs = [mine[r] - direct[r] for r in mine if r in direct]
        return statistics.median(diffs) if diffs else None


def fmt(v: float | None) -> str:
    if v is None:
        return "—"
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0 or a < 0:
        return "—"
    return f"{a / b:.2f}"


def render(figures: list[Figure], proxies: list[str], with_direct: bool, failed: dict[tuple[str, str], int]) -> str:
    head = ["figure"] + (["direct"] if with_direct else [])
    for p in proxies:
        head += [p, "÷best"] + (["÷direct"] if with_direct else [])
    rows = [head, ["---"] + ["---:"] * (len(head) - 1)]
    for f in figures:
        values = {p: f.shown(p) for p in proxies}
        have = [v for v in values.values() if v is not None]
        best = (min(have) if f.lower_is_better else max(have)) if have else None
        direct = f.median("direct") if with_direct else None
        row = [f.label] + ([fmt(direct) if f.vs_direct else "—"] if with_direct else [])
        for p in proxies:
            mark = "*" if failed.get((f.key.split(".")[0], p)) else ""
            row += [fmt(values[p]) + mark, ratio(values[p], best)]
            if with_direct:
                if not f.vs_direct:
                    row.append("—")
                elif f.added:  # whole round trip through the proxy over the direct one
                    total = f.median(p)
                    row.append(ratio(total, direct))
                else:
                    row.append(ratio(values[p], direct))
        rows.append(row)
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)
