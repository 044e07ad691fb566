"""The classifier training loop shared by train_mlp.py and train_cnn.py.

It is the loop every PyTorch user writes:

    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

plus command-line flags, MNIST loading, a tqdm progress bar, evaluation, and
saving metrics -- so each example file only has to say which model it trains.
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
from tqdm import tqdm

import minidl
import minidl.functional as F
from minidl.data import MNIST, DataLoader
from minidl.fileio import atomic_path


def parse_args(description, epochs, batch_size, lr, out, argv=None, extra=None):
    """The common flags; extra(parser), if given, adds a script's own flags."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--seed", type=int, default=0, help="same seed, same numbers")
    p.add_argument("--data-dir", default=None,
                   help="folder with the 4 MNIST IDX files (default: MINIDL_DATA, the "
                        "cache, a download, else the built-in subset)")
    p.add_argument("--out", default=out, help="folder for checkpoint, plots, metrics")
    p.add_argument("--limit", type=int, default=None,
                   help="use only the first N training (and N//5 test) images")
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint in --out")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    if extra is not None:
        extra(p)
    return p.parse_args(argv)


def load_mnist(args):
    """Train and test sets (printing where the data came from)."""
    train = MNIST(args.data_dir, train=True, limit=args.limit)
    test = MNIST(args.data_dir, train=False,
                 limit=None if args.limit is None else max(args.limit // 5, 1))
    print(f"data: {len(train)} training / {len(test)} test images ({train.source})")
    return train, test


def train_epoch(model, loader, optimizer, desc, progress=True, scheduler=None):
    """One pass over the training set; returns (mean loss, accuracy). A scheduler,
    if given, steps after every batch (a per-iteration learning-rate schedule)."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=desc, leave=False, disable=not progress, unit="batch")
    for x, y in bar:
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        n = len(y)
        total_loss += loss.item() * n
        correct += int((logits.numpy().argmax(1) == y.numpy()).sum())
        seen += n
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.4f}")
    return total_loss / seen, correct / seen


@minidl.no_grad()
def evaluate(model, loader):
    """Returns (mean loss, accuracy, predicted labels, true labels) on a data set."""
    model.eval()
    total_loss, preds, targets = 0.0, [], []
    for x, y in loader:
        logits = model(x)
        total_loss += F.cross_entropy(logits, y, reduction="sum").item()
        preds.append(logits.numpy().argmax(1))
        targets.append(y.numpy())
    preds, targets = np.concatenate(preds), np.concatenate(targets)
    return total_loss / len(targets), float((preds == targets).mean()), preds, targets


def maybe_resume(args, checkpoint, model, optimizer, history, scheduler=None):
    """With --resume and a checkpoint on disk: restore model and optimizer (and the
    scheduler), and return (saved history, epochs done); otherwise (history, 0)."""
    if not (args.resume and checkpoint.exists()):
        return history, 0
    state = minidl.load(checkpoint)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    print(f"resumed from {checkpoint} after epoch {state['epoch']}")
    return state["history"], state["epoch"]


def fit(model, optimizer, train_set, test_set, args, checkpoint, scheduler=None,
        augment=None):
    """Train for args.epochs (resuming from `checkpoint` if asked); returns history.
    `scheduler` (optional) is stepped once per batch; `augment` (optional) maps an
    epoch number to the transform applied to that epoch's training batches."""
    history = {"train_loss": [], "test_loss": [], "train_acc": [], "test_acc": [],
               "seconds": []}
    history, start = maybe_resume(args, checkpoint, model, optimizer, history,
                                  scheduler)
    test_loader = DataLoader(test_set, 500)
    for epoch in range(start, args.epochs):
        # a fresh order per epoch from (seed, epoch): a resumed run sees the same batches
        train_loader = DataLoader(train_set, args.batch_size, shuffle=True,
                                  seed=args.seed * 1000 + epoch,
                                  transform=augment(epoch) if augment else None)
        t0 = time.perf_counter()
        train_loss, train_acc = train_epoch(model, train_loader, optimizer,
                                            f"epoch {epoch + 1}/{args.epochs}",
                                            progress=not args.no_progress,
                                            scheduler=scheduler)
        seconds = time.perf_counter() - t0
        test_loss, test_acc, _, _ = evaluate(model, test_loader)
        for key, value in zip(history, (train_loss, test_loss, train_acc, test_acc,
                                        seconds)):
            history[key].append(value)
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {train_loss:.4f}, "
              f"test loss {test_loss:.4f}, test accuracy {test_acc:.4f} "
              f"({seconds:.1f} s)")
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "history": history, "epoch": epoch + 1}
        if scheduler is not None:
            state["scheduler"] = scheduler.state_dict()
        minidl.save(state, checkpoint)
    return history


def save_metrics(path, args, history, **extra):
    """Write the run's settings, per-epoch history and final numbers as JSON."""
    metrics = {"args": vars(args), "history": history,
               "machine": {"python": platform.python_version(),
                           "processor": platform.processor() or platform.machine(),
                           "numpy": np.__version__}, **extra}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2))
