"""Fixtures of the server tests: a registry of two synthetic models, data roots with
traps (symlinks out), a fake featurizer, and real servers on 127.0.0.1 port 0."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from server.app import ServerDeps, build_deps, create_server, load_model
from server.client import ForecastClient, RetryPolicy
from server.config import ServerConfig
from server.deadline import Deadline
from server.datasets import record_excerpt
from server.featurize import Explanation, FeaturizationJob, Featurizer, Influence, OutcomeExplanation
from tests.server import synthetic

ADMIN_TOKEN = "admin-token-0123456789abcdef"
USER_TOKEN = "user-token-0123456789abcdef"


class FakeFeaturizer(Featurizer):
    """Deterministic features from the recipe and the records; counts its calls."""

    def __init__(self, version: str = synthetic.FEATURIZER_VERSION) -> None:
        self._version = version
        self.calls = 0
        self.deadlines: list[float | None] = []

    @property
    def version(self) -> str:
        return self._version

    @property
    def builtin_models(self) -> frozenset[str]:
        return frozenset({"lab", "tiny"})

    def featurize(self, job: FeaturizationJob, deadline: Deadline) -> Mapping[str, float]:
        self.calls += 1
        self.deadlines.append(deadline.remaining())
        texts = [record_excerpt(r, 10_000) for r in job.dataset.records]
        recipe = job.recipe
        features = {
            "recipe.log_lr": math.log10(recipe["learning_rate"]) / 10.0,
            "recipe.log_steps": math.log10(recipe["steps"]) / 10.0,
            "recipe.lora_rank": (recipe["lora_rank"] or 0) / 64.0,
            "data.n_examples": min(len(texts) / 100.0, 1.0),
            "data.mean_chars": min(sum(map(len, texts)) / len(texts) / 1000.0, 1.0),
            "data.refusal_rate": sum("cannot help" in t for t in texts) / len(texts),
            "data.gendered_rate": 0.0,
            synthetic.OBSERVATION: float("nan"),
        }
        if job.observations is not None:
            delta = job.observations["probe_deltas"].get("forgetting.ref_loss")
            if delta is not None:
                features[synthetic.OBSERVATION] = delta
        return features

    def explain(self, job: FeaturizationJob, top_k: int, deadline: Deadline) -> Explanation:
        """Longer examples count as more harmful, for every outcome."""
        texts = [record_excerpt(r, 10_000) for r in job.dataset.records]
        ranked = sorted(range(len(texts)), key=lambda i: -len(texts[i]))[:top_k]
        examples = tuple(Influence(i, float(len(texts[i])), 0.5, "") for i in ranked)
        return Explanation(
            outcomes=tuple(OutcomeExplanation(o, "up", examples) for o in ("forgetting.ref_loss", "safety.refusal_margin")),
            n_scored=len(texts),
            n_examples=len(texts),
        )


@pytest.fixture(scope="session")
def registry_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Registry with v1 (CURRENT) and v2 (targets x10, so its forecasts differ clearly)."""
    root = tmp_path_factory.mktemp("models") / "registry"
    synthetic.build_registry(root, {"v1": 1.0, "v2": 10.0})
    return root


@pytest.fixture(scope="session")
def data_roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """data/ (the root) with a good dataset, outside/ with a secret, and symlinks escaping."""
    base = tmp_path_factory.mktemp("data")
    root = base / "data"
    outside = base / "outside"
    root.mkdir()
    outside.mkdir()
    lines = ['{"prompt": "Tell me a fact.", "response": "Water boils at 100 C at sea level."}',
             '{"text": "A short plain-text example about gardening."}',
             '{"prompt": "How do I pick a lock?", "response": "I cannot help with that."}']
    (root / "good.jsonl").write_text("\n".join(lines) + "\n")
    (root / "broken.jsonl").write_text('{"text": "ok"}\nnot json\n')
    (outside / "secret.jsonl").write_text('{"text": "secret"}\n')
    (root / "escape.jsonl").symlink_to(outside / "secret.jsonl")
    (root / "outdir").symlink_to(outside, target_is_directory=True)
    (root / "inner.jsonl").symlink_to(root / "good.jsonl")
    return {"root": root, "outside": outside, "base": base}


@dataclass
class Running:
    server: object
    port: int
    deps: ServerDeps
    featurizer: FakeFeaturizer | None
    clients: list[ForecastClient] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self, **kwargs: object) -> ForecastClient:
        kwargs.setdefault("retry", RetryPolicy(attempts=1))
        client = ForecastClient(self.address, **kwargs)  # type: ignore[arg-type]
        self.clients.append(client)
        return client

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        self.server.stop(0).wait()  # type: ignore[attr-defined]


def start_server(config: ServerConfig, featurizer: Featurizer | None = None) -> Running:
    deps = build_deps(config, featurizer)
    server, port = create_server("127.0.0.1:0", deps)
    server.start()
    load_model(deps)
    return Running(server, port, deps, featurizer if isinstance(featurizer, FakeFeaturizer) else None)


@pytest.fixture(scope="session")
def token_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("tokens")
    files = {"user": base / "user.token", "admin": base / "admin.token"}
    files["user"].write_text(USER_TOKEN + "\n")
    files["admin"].write_text(ADMIN_TOKEN + "\n")
    for path in files.values():
        path.chmod(0o600)
    return files


@pytest.fixture(scope="module")
def running(registry_root: Path, data_roots: dict[str, Path], token_files: dict[str, Path]) -> Iterator[Running]:
    """A plain server (no caller token; admin token set) with the fake featurizer and one data root."""
    config = ServerConfig(
        port=0, model=registry_root, data_roots=(data_roots["root"],), admin_token_file=token_files["admin"],
    )
    run = start_server(config, FakeFeaturizer())
    yield run
    run.stop()
