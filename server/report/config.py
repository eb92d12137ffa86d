"""Every knob of the risk report in one typed place, so no size or threshold hides in a function body."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

RISK_COLORS: dict[str, str] = {"low": "#1b9e77", "moderate": "#d95f02", "high": "#d62728"}
"""Colour-blind-safe risk colours (Dark2 green/orange plus a red); always shown beside a text label."""
RISK_MARKERS: dict[str, str] = {"low": "o", "moderate": "s", "high": "^"}
"""Marker shapes repeat the risk level in the plots for readers who cannot tell the colours apart."""


class ReportConfig(BaseModel):
    """Sizes and limits of the report; the defaults fit one forecast card on a 1280-wide screen."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dpi: int = Field(default=100, ge=40, le=300, description="resolution of the embedded PNG plots")
    top_examples: int = Field(default=3, ge=1, description="influential examples shown per outcome")
    example_chars: int = Field(default=400, ge=20, description="characters of an example's text kept; "
                               "the card shows its first lines, the tooltip all of it")
    coverage_tolerance: float = Field(default=0.05, ge=0, lt=1, description="held-out coverage this far below "
                                      "the nominal level is flagged as under-covering")
    trajectory_columns: int = Field(default=5, ge=1, description="panels per row of the trajectory plot")
    panel_width: float = Field(default=2.45, gt=0, description="inches per trajectory panel")
    panel_height: float = Field(default=1.85, gt=0, description="inches per trajectory panel")
    comparison_row_height: float = Field(default=0.32, gt=0, description="inches per candidate in the comparison plot")
    comparison_min_height: float = Field(default=1.6, gt=0, description="inches: comparison plot height floor")
    comparison_panel_width: float = Field(default=3.9, gt=0, description="inches per headline panel")
    label_chars: int = Field(default=28, ge=8, description="characters of a candidate name on a plot axis")
    band_color: str = Field(default="#2c5d8f", description="line and band colour of the trajectories")
    band_alphas: tuple[float, ...] = Field(default=(0.32, 0.16, 0.09), description="band opacity, narrowest "
                                           "level first; levels beyond the list reuse the last")
