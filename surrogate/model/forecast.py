"""What ``ForecastModel.predict`` returns: arrays indexed by level, row and target."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from surrogate.model.ood import OODReport


@dataclass(frozen=True)
class Forecast:
    """Point forecasts and conformal intervals for every row and target.

    ``point`` is (rows, targets); ``lower``/``upper`` are (levels, rows,
    targets). ``observed`` marks rows that carried early-run observations and
    so were calibrated on the mid-run scores. The point comes from its own
    booster; where it falls outside the conformal interval, the interval is
    widened to hold it (coverage can only rise), so lower <= point <= upper.
    """

    targets: tuple[str, ...]
    levels: tuple[float, ...]
    point: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    observed: np.ndarray
    ood: OODReport

    def target_index(self, target: str) -> int:
        try:
            return self.targets.index(target)
        except ValueError:
            raise KeyError(f"target {target!r} is not forecast; known: {list(self.targets)}") from None

    def level_index(self, level: float) -> int:
        for i, served in enumerate(self.levels):
            if np.isclose(served, level):
                return i
        raise KeyError(f"level {level} was not requested; served levels: {list(self.levels)}")

    def point_of(self, target: str) -> np.ndarray:
        """Point forecast of ``target`` for every row."""
        return self.point[:, self.target_index(target)]

    def interval(self, target: str, level: float) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) of ``target`` at ``level`` for every row."""
        t, li = self.target_index(target), self.level_index(level)
        return self.lower[li, :, t], self.upper[li, :, t]
