"""Train the span classifier (transforms/tagging/spans.py) on CoNLL-2003 eng.train.

Candidates and features come from the tagger's own functions, so training sees exactly what
tagging computes. A candidate is labelled with the gold type whose span it equals (PER, LOC,
ORG -> person, place, organisation) and "none" otherwise (MISC included: nutgraf has no such
type). The model is a multinomial logistic regression with an L2 penalty, fitted with
L-BFGS on a sparse matrix of hashed features.

Buckets fewer than --min-count candidates have are left out: a rare name is learnt by heart
rather than generalised from (bench/evaluate-tags compares eng.train, which the model has
seen, with eng.testa, which it has not). With --write it
writes transforms/data/span_model.parquet (buckets and weights only: no training text) and
span_model.json (what it was trained on, with which settings, and the probe hashes).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
from scipy import optimize, sparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.evaluate_entities import TYPES, read_conll  # noqa: E402
from transforms.gazetteer import load_gazetteer  # noqa: E402
from transforms.names import capitalised_runs, load_name_rules  # noqa: E402
from transforms.schema import SPAN_END, SPAN_START, TEXT  # noqa: E402
from transforms.tagging.entities import PERSON_TITLES  # noqa: E402
from transforms.tagging.frames import ROW  # noqa: E402
from transforms.tagging.spans import (  # noqa: E402
    BUCKET,
    BUCKETS,
    CLASSES,
    PROVENANCE_FILE,
    SPAN,
    WEIGHTS_FILE,
    candidate_spans,
    probe_buckets,
    span_features,
)

NAMES = {code: name for name, code in TYPES.items()}
VERSION = "1"


def design(
    texts: list[str], gold: pl.DataFrame
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """The candidates' feature matrix (columns: buckets), their labels, and the buckets of
    the columns."""
    frame = pl.DataFrame({ROW: np.arange(len(texts), dtype=np.uint32), TEXT: texts})
    rules = load_name_rules(PERSON_TITLES)
    runs = capitalised_runs(frame, rules)
    spans = candidate_spans(runs)
    features = span_features(spans, frame, rules, load_gazetteer())
    labels = spans.join(
        gold.select(
            pl.col("sentence").cast(pl.UInt32).alias(ROW),
            pl.col("start").alias(SPAN_START),
            pl.col("end").alias(SPAN_END),
            pl.col("type").replace_strict(NAMES).alias("_type"),
        ),
        on=[ROW, SPAN_START, SPAN_END],
        how="left",
    ).sort(SPAN)
    reachable = labels["_type"].is_not_null().sum()
    print(
        f"{len(texts):,} sentences, {spans.height:,} candidates; "
        f"gold PER/LOC/ORG mentions that are candidates: {reachable:,} of {gold.height:,} "
        f"({reachable / gold.height:.1%})"
    )
    y = labels["_type"].fill_null("none").replace_strict({c: i for i, c in enumerate(CLASSES)})
    # One (span, bucket) entry per feature a span has; columns are the buckets seen.
    buckets = features.drop(SPAN).to_numpy()
    rows = np.repeat(features[SPAN].to_numpy(), buckets.shape[1])
    columns, column_of = np.unique(buckets.ravel(), return_inverse=True)
    matrix = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, column_of)), shape=(spans.height, len(columns))
    )
    return matrix, y.to_numpy().astype(np.int64), columns


def fit(x: sparse.csr_matrix, y: np.ndarray, l2: float) -> np.ndarray:
    """Weights (features x classes) minimising mean log loss + l2/2 * |W|^2."""
    n, k = x.shape[0], len(CLASSES)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    xt = x.T.tocsr()

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = flat.reshape(-1, k)
        z = x @ w
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        value = -np.log(p[np.arange(n), y] + 1e-12).mean() + 0.5 * l2 * (w * w).sum()
        grad = (xt @ (p - onehot)) / n + l2 * w
        return value, grad.ravel()

    result = optimize.minimize(
        loss, np.zeros(x.shape[1] * k), jac=True, method="L-BFGS-B", options={"maxiter": 400}
    )
    return result.x.reshape(-1, k)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("NUTGRAF_CORPORA", ROOT.parent / "shared" / "corpora"))
    parser.add_argument("--corpora", type=Path, default=default)
    parser.add_argument("--l2", type=float, default=2e-4, help="L2 penalty per example")
    parser.add_argument(
        "--min-count",
        type=int,
        default=10,
        help="leave out buckets fewer candidates than this have (rare names are learnt "
        "by heart, not generalised from)",
    )
    parser.add_argument("--write", action="store_true", help="write the weights files")
    args = parser.parse_args(argv)
    path = args.corpora / "conll2003" / "eng.train"
    if not path.is_file():
        print(f"skipped: {path} is absent", file=sys.stderr)
        return 0
    texts, gold = read_conll(path)
    x, y, columns = design(texts, gold)
    common = np.asarray((x > 0).sum(axis=0)).ravel() >= args.min_count
    x, columns = x[:, common].tocsr(), columns[common]
    print(f"{common.sum():,} buckets seen in {args.min_count} candidates or more")
    started = time.perf_counter()
    weights = fit(x, y, args.l2)
    print(f"fitted {x.shape[1]:,} features in {time.perf_counter() - started:.1f} s")
    # Buckets whose weights are all near zero change no decision; leaving them out keeps
    # the file small.
    keep = np.abs(weights).max(axis=1) > 1e-3
    table = pl.DataFrame({BUCKET: columns[keep].astype(np.uint32)}).with_columns(
        pl.Series(name, weights[keep, i].astype(np.float32)) for i, name in enumerate(CLASSES)
    )
    print(f"{table.height:,} buckets kept of {len(columns):,}")
    if args.write:
        table.write_parquet(WEIGHTS_FILE, compression="zstd", compression_level=19)
        provenance = {
            "version": VERSION,
            "trained_on": f"CoNLL-2003 {path.name}",
            "trained_on_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "command": (
                f"bench/train_span_model.py --l2 {args.l2} --min-count {args.min_count} --write"
            ),
            "min_count": args.min_count,
            "date": datetime.date.today().isoformat(),
            "l2": args.l2,
            "buckets": BUCKETS,
            "classes": list(CLASSES),
            "polars": pl.__version__,
            "probes": probe_buckets(),
        }
        PROVENANCE_FILE.write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
        print(f"written {WEIGHTS_FILE} ({WEIGHTS_FILE.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
