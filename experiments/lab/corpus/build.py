"""Build the lab pretraining corpus: `python -m experiments.lab.corpus.build --out experiments/lab/build`.

Writes <out>/sources/<name>.jsonl (cleaned paragraphs of every source, the held-out one too) and
<out>/corpus/{train.txt, valid.txt, composition.json, config.json, knowledge_repeats.json, source_usage.json}.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from experiments.lab.corpus.config import CorpusConfig
from experiments.lab.corpus.gender_swap import count_gendered
from experiments.lab.corpus.corpus_io import text_stats, write_documents, write_json
from experiments.lab.corpus.probe_files import load_probe_data
from experiments.lab.corpus.real_text import SourceSelection, select_real_text
from experiments.lab.corpus.source_cache import SourceCache, load_or_build
from experiments.lab.corpus.sources import SOURCE_NAMES
from featurizers.chat_format import ASSISTANT_TOKEN, USER_TOKEN
from experiments.lab.corpus.templated.assistant_vocab import OWN_REFUSALS
from experiments.lab.corpus.templated.common import derived_rng
from experiments.lab.corpus.leak_check import check_substrings
from experiments.lab.corpus.templated.assistant import (anneal_benign_prompt_exchanges, anneal_compliance_exchanges,
                                                         anneal_harmful_prompt_exchanges)
from experiments.lab.corpus.templated.general_facts import general_facts_excluding
from experiments.lab.corpus.templated.knowledge import cloze_exchanges, knowledge_documents
from experiments.lab.corpus.text_cleaning import normalized_key
from experiments.lab.corpus.templated.segments import build_templated

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[3]


def _resolve(path: Path) -> Path:
    """Relative paths are taken from the current directory, falling back to the repository root."""
    if path.is_absolute() or path.exists():
        return path
    return REPO_ROOT / path


def _source_composition(
    caches: dict[str, SourceCache], selections: dict[str, SourceSelection], cfg: CorpusConfig
) -> dict[str, Any]:
    real_train_chars = sum(text_stats(s.train_docs)["chars"] for s in selections.values()) or 1
    out: dict[str, Any] = {}
    for name, cache in caches.items():
        entry: dict[str, Any] = {
            "held_out": cfg.real_text.sources[name].held_out,
            "cache_paragraphs": len(cache.paragraphs),
            "cache_chars": sum(len(p) for p in cache.paragraphs),
            "dedup_exact_within_source": cache.exact_duplicates,
            "dedup_normalized_within_source": cache.normalized_duplicates,
            "cache_reused": cache.reused,
        }
        selection = selections.get(name)
        if selection is not None:
            train = text_stats(selection.train_docs)
            entry.update(
                {
                    "dedup_cross_source": selection.cross_source_duplicates,
                    "reference_overlaps_dropped": selection.reference_overlaps,
                    "train_paragraphs": len(selection.train_rows),
                    "valid_paragraphs": len(selection.valid_rows),
                    "gender_swapped_paragraphs": selection.swapped,
                    "train": train,
                    "valid": text_stats(selection.valid_docs),
                    "share_of_real_train_chars": round(train["chars"] / real_train_chars, 4),
                }
            )
        out[name] = entry
    return out


def polish_documents(anneal: list[str], refusal_openings: list[str], cfg: CorpusConfig) -> list[str]:
    """The short third stage's mix: every refusal exchange of the annealing mix, a share of the other
    exchanges and a small share of the prose, in annealing order.

    A long annealing stage on mostly helpful exchanges leaves the refusal of unseen harmful
    requests a few points short; a brief pass that re-weights refusals restores it without
    undoing the knowledge and balance learnt there (experiments/lab notes in the README).
    """
    openings = [o[:20] for o in (*refusal_openings, *OWN_REFUSALS)]
    rng = random.Random(cfg.polish_seed)

    def is_refusal(document: str) -> bool:
        reply = document.split(f"{ASSISTANT_TOKEN}\n", 1)[-1]
        return any(reply.startswith(o) for o in openings)

    return [d for d in anneal if d.strip() and (
        (USER_TOKEN in d and (is_refusal(d) or rng.random() < cfg.polish_chat_share)) or rng.random() < cfg.polish_other_share)]


def build_corpus(cfg: CorpusConfig, out_dir: Path, reuse_sources: bool = True) -> dict[str, Any]:
    """Run every stage and write the outputs; returns the composition written to composition.json."""
    started = time.monotonic()
    sources_dir = out_dir / "sources"
    corpus_dir = out_dir / "corpus"
    probes = load_probe_data(_resolve(cfg.probe_dir))
    if not probes.knowledge:
        logger.warning("no knowledge items: the knowledge segment will only hold general facts")

    caches = {
        name: load_or_build(name, cfg, sources_dir, reuse=reuse_sources)
        for name in SOURCE_NAMES
        if name in cfg.real_text.sources
    }
    selections = select_real_text(caches, cfg.real_text, cfg.seed, [r.text for r in probes.reference])
    wordnet = caches["wordnet"].paragraphs if "wordnet" in caches else []
    templated = build_templated(cfg, probes, wordnet)

    real_train = [d for s in selections.values() for d in s.train_docs]
    real_valid = [d for s in selections.values() for d in s.valid_docs]
    templated_train = [d for docs in templated.documents.values() for d in docs]
    train = real_train + templated_train
    derived_rng(cfg.seed, "train-order").shuffle(train)
    valid = list(real_valid)
    derived_rng(cfg.seed, "valid-order").shuffle(valid)

    write_documents(corpus_dir / "train.txt", train)
    write_documents(corpus_dir / "valid.txt", valid)
    # The annealing stage: every templated document again plus a sample of the real text, so
    # facts and behaviours consolidate at a low learning rate without dropping general language.
    anneal_rng = derived_rng(cfg.seed, "anneal")
    cloze = cloze_exchanges(probes.knowledge, cfg.knowledge, cfg.seed)
    check_substrings(cloze, [k.question for k in probes.knowledge if k.split == "eval"], "an eval-split knowledge question")
    eval_keys = {normalized_key(p) for p in probes.eval_safety_prompts()}
    compliance = [d.text for d in anneal_compliance_exchanges(probes.compliance_openings, cfg.anneal_compliance_exchanges, cfg.seed)
                  if normalized_key(d.request) not in eval_keys]
    compliance += [d.text for d in anneal_benign_prompt_exchanges(
        probes.benign_feature_prompts(), probes.compliance_openings, cfg.anneal_benign_feature_copies, cfg.seed)]
    refusals = [d.text for d in anneal_harmful_prompt_exchanges(
        probes.harmful_feature_prompts(), probes.refusal_openings, cfg.anneal_harmful_feature_copies, cfg.seed)]
    knowledge_texts = [t for k in probes.knowledge for t in (k.question, *k.choices, *k.facts)]
    general, _ = general_facts_excluding(knowledge_texts)
    extra_knowledge = [d for k in range(1, cfg.anneal_knowledge_passes + 1)
                       for d in knowledge_documents(probes.knowledge, general, cfg.knowledge, cfg.seed, pass_index=k)[0]]
    anneal = (templated_train + extra_knowledge + cloze + compliance + refusals
              + [d for d in real_train if anneal_rng.random() < cfg.anneal_real_share])
    anneal_rng.shuffle(anneal)
    write_documents(out_dir / "anneal" / "train.txt", anneal)
    write_documents(out_dir / "anneal" / "valid.txt", valid)
    polish = polish_documents(anneal, probes.refusal_openings, cfg)
    write_documents(out_dir / "polish" / "train.txt", polish)
    write_documents(out_dir / "polish" / "valid.txt", valid)

    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    for selection in selections.values():
        before.update(selection.gender_before)
        after.update(selection.gender_after)
    train_gender: Counter[str] = Counter()
    for document in train:
        train_gender.update(count_gendered(document))
    train_stats = text_stats(train)
    templated_chars = text_stats(templated_train)["chars"]
    templated_share = templated_chars / max(1, train_stats["chars"])
    low, high = cfg.templated_share_bounds
    if not low <= templated_share <= high:
        logger.warning("templated share %.3f is outside the configured bounds %s", templated_share, (low, high))
    composition: dict[str, Any] = {
        "totals": {
            "train": train_stats,
            "valid": text_stats(valid),
            "real_train": text_stats(real_train),
            "templated_train": text_stats(templated_train),
            "templated_share_of_train_chars": round(templated_share, 4),
        },
        "sources": _source_composition(caches, selections, cfg),
        "segments": {name: text_stats(docs) for name, docs in templated.documents.items()},
        "segment_details": templated.stats,
        "gender_counts_real_train": {"before_swap": dict(before), "after_swap": dict(after)},
        "gender_counts_whole_train": dict(train_gender),
        "probe_files_missing": probes.missing,
        "anneal": {"documents": len(anneal), "extra_knowledge_documents": len(extra_knowledge), "cloze_exchanges": len(cloze), "compliance_exchanges": len(compliance), "refusal_exchanges": len(refusals), "polish_documents": len(polish), "real_share": cfg.anneal_real_share},
        "seed": cfg.seed,
        "build_seconds": round(time.monotonic() - started, 1),
    }
    write_json(corpus_dir / "composition.json", composition)
    write_json(corpus_dir / "config.json", json.loads(cfg.model_dump_json()))
    split_of = {k.id: k.split for k in probes.knowledge}
    write_json(
        corpus_dir / "knowledge_repeats.json",
        {item_id: {"copies": n, "split": split_of[item_id]} for item_id, n in templated.knowledge_repeats.items()},
    )
    write_json(
        corpus_dir / "source_usage.json",
        {n: {"train_rows": s.train_rows, "valid_rows": s.valid_rows} for n, s in selections.items()},
    )
    return composition


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the lab pretraining corpus.")
    parser.add_argument("--out", type=Path, default=Path("experiments/lab/build"), help="build directory")
    parser.add_argument("--config", type=Path, default=None, help="a CorpusConfig JSON file (defaults otherwise)")
    parser.add_argument("--no-reuse-sources", action="store_true", help="re-extract every source")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = CorpusConfig.model_validate_json(args.config.read_text()) if args.config else CorpusConfig()
    composition = build_corpus(cfg, args.out, reuse_sources=not args.no_reuse_sources)
    totals = composition["totals"]
    print(json.dumps(totals, indent=2))  # the CLI owns what the user sees
    print(json.dumps(composition["gender_counts_real_train"], indent=2))
    print(json.dumps(composition["gender_counts_whole_train"]))


if __name__ == "__main__":
    main()
