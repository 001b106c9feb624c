#!/usr/bin/env python3
"""Runs tomotopy's LDA (collapsed Gibbs, C++ with SIMD) on a UCI docword file, as the peer
that `gasket lda` is compared with in BENCHMARKS.md.

    pip install tomotopy==0.14.0
    python3 benches/peers/lda_tomotopy.py DOCWORD[.gz] --topics 20 --iterations 100 --threads 1

The model is `LDAModel(k, alpha, eta, seed)` with hyper-parameter optimisation off
(`optim_interval = 0`), trained with `ParallelScheme.PARTITION` when `--threads` is more
than 1. Prints `iter  loglik/token` every `--refresh` iterations, then a summary line with
the sampling time and tokens per second. Loading the file is not timed; documents are
added one at a time, so the peak RSS is tomotopy's corpus and model, not Python's lists.
"""
import argparse
import gzip
import sys
import time


def read_uci(path):
    """Yields each document as a list of word ids (as strings), one per token."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        docs = int(f.readline())
        int(f.readline())
        int(f.readline())
        current, words = 1, []
        for line in f:
            d, w, c = line.split()
            d = int(d)
            if d != current:
                yield words
                for _ in range(current + 1, d):
                    yield []
                current, words = d, []
            words.extend([w] * int(c))
        yield words
        for _ in range(current + 1, docs + 1):
            yield []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("docword")
    ap.add_argument("--topics", type=int, default=20)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--beta", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--refresh", type=int, default=10)
    args = ap.parse_args()
    import tomotopy as tp

    model = tp.LDAModel(k=args.topics, alpha=args.alpha, eta=args.beta, seed=args.seed)
    model.optim_interval = 0
    for words in read_uci(args.docword):
        if words:
            model.add_doc(words)
    scheme = tp.ParallelScheme.PARTITION if args.threads > 1 else tp.ParallelScheme.NONE
    # The first call initialises the topics; it is not a sweep.
    model.train(0, workers=args.threads, parallel=scheme)
    tokens = model.num_words
    secs = 0.0
    done = 0
    while done < args.iterations:
        step = min(args.refresh, args.iterations - done)
        start = time.perf_counter()
        model.train(step, workers=args.threads, parallel=scheme)
        secs += time.perf_counter() - start
        done += step
        print(f"{done}\t{model.ll_per_word:.5f}", flush=True)
    print(f"# tomotopy {tp.__version__} ({tp.isa}): {tokens} tokens, K={args.topics}, "
          f"{args.iterations} iterations on {args.threads} thread(s) in {secs:.2f}s = "
          f"{tokens * args.iterations / secs:.3e} tokens/s; "
          f"final loglik/token {model.ll_per_word:.5f}", file=sys.stdout)


if __name__ == "__main__":
    main()
