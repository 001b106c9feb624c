#!/usr/bin/env python3
"""Runs the PyPI `lda` package (collapsed Gibbs, Cython) on a UCI docword file, as the
peer that `gasket lda` is compared with in BENCHMARKS.md.

    pip install lda==3.0.2 scipy
    python3 benches/peers/lda_reference.py DOCWORD[.gz] --topics 20 --iterations 100

Prints one line per reported iteration, `iter  loglik  loglik/token`, then a summary line
with the sampling time and tokens per second (the package is single-threaded). Loading the
file is not timed.
"""
import argparse
import gzip
import sys
import time

import numpy as np
import scipy.sparse as sp


def read_uci(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        d = int(f.readline())
        w = int(f.readline())
        nnz = int(f.readline())
        data = np.array(f.read().split(), dtype=np.int64).reshape(-1, 3)
    if data.shape[0] != nnz:
        sys.exit(f"{path}: header says {nnz} entries, body has {data.shape[0]}")
    return sp.csr_matrix((data[:, 2], (data[:, 0] - 1, data[:, 1] - 1)), shape=(d, w), dtype=np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("docword")
    ap.add_argument("--topics", type=int, default=20)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--beta", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--refresh", type=int, default=10)
    args = ap.parse_args()
    import lda
    import logging
    logging.getLogger("lda").setLevel(logging.WARNING)
    x = read_uci(args.docword)
    tokens = int(x.sum())
    model = lda.LDA(n_topics=args.topics, n_iter=args.iterations, alpha=args.alpha,
                    eta=args.beta, random_state=args.seed, refresh=args.refresh)
    start = time.perf_counter()
    model.fit(x)
    secs = time.perf_counter() - start
    for it, ll in zip(range(0, args.iterations, args.refresh), model.loglikelihoods_):
        print(f"{it}\t{ll:.1f}\t{ll / tokens:.5f}")
    final = model.loglikelihood()
    print(f"# lda {lda.__version__}: {tokens} tokens, K={args.topics}, {args.iterations} iterations "
          f"in {secs:.2f}s = {tokens * args.iterations / secs:.3e} tokens/s; "
          f"final loglik {final:.1f} ({final / tokens:.5f}/token)")


if __name__ == "__main__":
    main()
