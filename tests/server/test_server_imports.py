"""The serving path stays light: importing the server and loading + predicting a model
pulls in none of torch, lightgbm, scikit-learn, SciPy or pyarrow (each costs seconds at
start, and a serving process must answer SERVING within about a second)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "lightgbm", "sklearn", "scipy", "pyarrow")
SERVING_MODULES = ("server.app", "server.cli", "server.__main__", "server.model_holder", "surrogate.model")


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def imported_modules(importtime_stderr: str) -> set[str]:
    """Module names from ``-X importtime`` lines: ``import time: self | cumulative | name``."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def test_importtime_parser_sees_heavy_imports():
    """Guard against a parser that finds nothing: importing numpy shows numpy."""
    result = _run(["-X", "importtime", "-c", "import numpy"])
    assert result.returncode == 0, result.stderr
    assert "numpy" in imported_modules(result.stderr)


@pytest.mark.parametrize("module", SERVING_MODULES)
def test_serving_modules_import_nothing_heavy(module):
    result = _run(["-X", "importtime", "-c", f"import {module}"])
    assert result.returncode == 0, result.stderr[-2000:]
    names = imported_modules(result.stderr)
    assert module in names
    heavy = sorted(n for n in names if n.split(".")[0] in HEAVY)
    assert not heavy, f"importing {module} imported {heavy[:10]}"


def test_loading_and_predicting_a_model_imports_nothing_heavy(registry_root):
    """The whole start path of a server (deps, model load and verification, a forecast)."""
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        import numpy as np
        from server.app import build_deps, load_model
        from server.config import ServerConfig

        deps = build_deps(ServerConfig(model=Path({str(registry_root)!r}), port=0))
        snapshot = load_model(deps)
        median = np.asarray(snapshot.model.feature_stats_.median)[None, :]
        forecast = snapshot.model.predict(np.repeat(median, 3, axis=0))
        assert np.isfinite(forecast.point).all()
        print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})))
        """
    )
    result = _run(["-c", code])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "", f"the serving path imported {result.stdout.strip()[:300]}"
