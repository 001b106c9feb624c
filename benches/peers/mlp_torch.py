#!/usr/bin/env python3
"""PyTorch reference for `gasket mlp`: the same network, optimizer, batch and data.

Usage: mlp_torch.py DATA_DIR [--epochs 10] [--batch 128] [--threads 2] [--device cpu|cuda]
       [--optimizer adam|sgd] [--lr LR] [--lr-schedule cosine|constant]

Reads the MNIST-style IDX files of DATA_DIR (plain or .gz), scales pixels to [0, 1],
trains 784-256-128-10 (ReLU, softmax cross-entropy, Glorot-uniform weights, zero biases,
shuffled batches) with the learning rate annealed by a cosine over the run (`--lr-schedule`,
as gasket's default) and prints, per epoch, the training samples/s (test scoring excluded)
and the test accuracy.
"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch


def read_idx(path):
    for name in (path, path + ".gz"):
        if os.path.exists(name):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(name, "rb") as f:
                data = f.read()
            ndims = data[3]
            dims = struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims])
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)
    raise SystemExit(f"missing {path}[.gz]")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--lr", type=float)
    p.add_argument("--layers", default="784,256,128,10")
    p.add_argument("--lr-schedule", default="cosine", choices=["cosine", "constant"])
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    dev = torch.device(a.device)
    load = lambda kind: read_idx(os.path.join(a.data, kind))
    xtr = torch.tensor(load("train-images-idx3-ubyte").reshape(-1, 784) / 255.0, dtype=torch.float32, device=dev)
    ytr = torch.tensor(load("train-labels-idx1-ubyte").astype(np.int64), device=dev)
    xte = torch.tensor(load("t10k-images-idx3-ubyte").reshape(-1, 784) / 255.0, dtype=torch.float32, device=dev)
    yte = torch.tensor(load("t10k-labels-idx1-ubyte").astype(np.int64), device=dev)
    widths = [int(w) for w in a.layers.split(",")]
    layers = []
    for i in range(len(widths) - 1):
        lin = torch.nn.Linear(widths[i], widths[i + 1])
        torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i + 2 < len(widths):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(dev)
    if a.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=a.lr or 1e-3)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=a.lr or 0.05, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = xtr.shape[0]
    steps = a.epochs * ((n + a.batch - 1) // a.batch)
    # Cosine annealing from lr to 0 over every step of the run, as gasket's default.
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps) if a.lr_schedule == "cosine" else None
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(n, device=dev)
        sync()
        t = time.perf_counter()
        total = 0.0
        for s in range(0, n, a.batch):
            idx = perm[s:s + a.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += loss.item() * len(idx)
        sync()
        dt = time.perf_counter() - t
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch}: train loss {total / n:.4f}, test accuracy {100 * acc:.2f}%, "
              f"{n / dt:.0f} samples/s", flush=True)


if __name__ == "__main__":
    main()
