"""The classifier training loop shared by train_mlp.py and train_cnn.py, and what
every training example shares: flags, data, the non-finite-loss check.

It is the loop every PyTorch user writes:

    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

plus command-line flags (checked before any work, flags.py), the --out folder and
--resume (run_folder.py), MNIST loading, a tqdm progress bar, a stop with a clear
message when the loss stops being a number, evaluation, and saving metrics -- so
each example file only has to say which model it trains.

--distributed (data-parallel training, `mpiexec -n P python train_cnn.py
--distributed`): each of the P processes trains a DistributedDataParallel copy of
the model on --batch-size / P examples of every batch (a DistributedSampler picks
them), so the global batch is --batch-size. Every rank reads the run folder; only
rank 0 prints, shows progress and writes checkpoints, figures and metrics.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import platform
import sys
import time

import numpy as np
from tqdm import tqdm

import minidl
import minidl.distributed as dist
import minidl.functional as F
from minidl.data import MNIST, DataLoader, DistributedSampler
from minidl.fileio import atomic_path
from minidl.nn.parallel import DistributedDataParallel

from flags import add_data_dir, add_out, add_seed, fail, parser, positive_float, positive_int


def parse_args(description, epochs, batch_size, lr, out, argv=None, extra=None,
               prog="train.py", resumable=True):
    """The common flags, each checked as it is parsed; extra(parser), if given, adds
    a script's own flags. resumable=False leaves out --epochs, --resume and
    --overwrite (for scripts without epochs or checkpoints)."""
    p = parser(prog, description)
    if resumable:
        p.add_argument("--epochs", type=positive_int, default=epochs)
    p.add_argument("--batch-size", type=positive_int, default=batch_size)
    p.add_argument("--lr", type=positive_float, default=lr)
    add_seed(p)
    add_data_dir(p)
    add_out(p, out)
    p.add_argument("--limit", type=positive_int, default=None,
                   help="use only the first N training (and N//5 test) images")
    if resumable:
        group = p.add_mutually_exclusive_group()
        group.add_argument("--resume", action="store_true",
                           help="continue the run whose checkpoint is in --out")
        group.add_argument("--overwrite", action="store_true",
                           help="replace the run whose checkpoint is in --out")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    if extra is not None:
        extra(p)
    return p.parse_args(argv)


def load_mnist(args, run=None):
    """Train and test sets, both from one place (printing which); a data folder that
    is missing files or holds damaged ones stops the script with the reason. With a
    `run`, checks the data is the run's (see Run.check_data)."""
    test_limit = None if args.limit is None else max(args.limit // 5, 1)
    try:
        with rank_zero_first():
            train = MNIST(args.data_dir, train=True, limit=args.limit)
            test = MNIST(args.data_dir, train=False, limit=test_limit)
    except (OSError, ValueError) as error:  # incomplete or damaged files, no download
        fail(args, str(error))
    if train.source != test.source:
        fail(args, f"MNIST: training data from {train.source} but test data from "
                   f"{test.source}; name one folder with --data-dir")
    print(f"data: {len(train)} training / {len(test)} test images ({train.source})")
    if run is not None:
        run.check_data(train)
    return train, test


# ------------------------------------------------------------------ diverging runs
class Divergence(RuntimeError):
    """Training went wrong in a way more steps will not fix."""


def check_finite(where: str, lr=None, **values):
    """Raise Divergence unless every value (losses of this step) is a finite number.
    Every training loop calls this once per step, so a run that blows up stops at
    once, naming the epoch and step -- not hours later with a NaN checkpoint."""
    bad = [name for name, value in values.items() if not math.isfinite(value)]
    if bad:
        shown = ", ".join(f"{name} {value:.4g}" for name, value in values.items())
        raise Divergence(f"training diverged at {where}: {' and '.join(bad)} "
                         f"{'is' if len(bad) == 1 else 'are'} not finite ({shown}). "
                         f"Try a lower --lr{'' if lr is None else f' (this run: {lr:g})'}"
                         "; the checkpoint of the last finished epoch, if any, is kept.")


def run_script(main, resumable=True):
    """Run an example's main() from the command line: a diverged run, a file that
    cannot be written (disk full, ...) or Ctrl-C ends with one line, not a traceback.
    In a data-parallel run, a rank that stops so takes every rank down with it (the
    others would wait for it forever)."""
    try:
        try:
            main()
        except (Divergence, OSError) as error:
            sys.exit(f"stopped: {error}")
        except KeyboardInterrupt:
            sys.exit("interrupted" + ("; the checkpoint of the last finished epoch, if "
                                      "any, is kept: continue with the same flags and "
                                      "--resume" if resumable else ""))
    except SystemExit as stop:
        if stop.code not in (None, 0) and dist.is_initialized():
            dist.abort(stop.code)
        raise


# ------------------------------------------------------------------ --distributed
def add_distributed(p):
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel training: run as `mpiexec -n P python ...`; each "
                        "of the P processes trains on batch-size/P examples of every "
                        "batch (without mpiexec: one process)")


def join_job(args) -> int:
    """--distributed: join the MPI job and check that --batch-size splits evenly
    among its processes; every rank but 0 goes quiet. Returns this process's rank."""
    if not args.distributed:
        if dist.launched_world_size() > 1:  # P copies would each train the whole run
            fail(args, f"started by mpiexec as one of {dist.launched_world_size()} "
                       "processes, but without --distributed: add --distributed to "
                       "train together, or run without mpiexec")
        return 0
    dist.init()
    size, rank = dist.get_world_size(), dist.get_rank()
    if args.batch_size % size:
        fail(args, f"--batch-size {args.batch_size} must divide evenly among the {size} "
                   f"processes (each trains on --batch-size / {size} examples of every "
                   "batch)")
    if rank != 0:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (for the rest of the process)
        args.no_progress = True
    print(f"data-parallel training on {size} process{'es' * (size > 1)}: "
          f"{args.batch_size // size} examples of every batch of {args.batch_size} each")
    return rank


@contextlib.contextmanager
def rank_zero_first():
    """In a data-parallel run, rank 0 runs the block first (it may download MNIST
    into the cache, and says where the data comes from); the others wait, then run
    it without a word on stderr (errors still raise)."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        yield
    elif dist.get_rank() == 0:
        yield
        dist.barrier()
    else:
        dist.barrier()
        with contextlib.redirect_stderr(io.StringIO()):
            yield


def epoch_loader(train_set, args, epoch: int, transform=None) -> DataLoader:
    """The training batches of one epoch, in a fresh order from (seed, epoch), so a
    resumed run sees the same batches; with --distributed, this rank's share.
    `transform` (optional) is applied to every batch (e.g. augmentation)."""
    if not getattr(args, "distributed", False):
        return DataLoader(train_set, args.batch_size, shuffle=True,
                          seed=args.seed * 1000 + epoch, transform=transform)
    sampler = DistributedSampler(train_set, seed=args.seed * 1000)
    sampler.set_epoch(epoch)  # its order comes from seed + epoch
    return DataLoader(train_set, args.batch_size // dist.get_world_size(),
                      sampler=sampler, transform=transform)


def train_epoch(model, loader, optimizer, desc, progress=True, scheduler=None):
    """One pass over the training set; returns (mean loss, accuracy). A scheduler,
    if given, steps after every batch (a per-iteration learning-rate schedule)."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=desc, leave=False, disable=not progress, unit="batch")
    for step, (x, y) in enumerate(bar):
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        check_finite(f"{desc}, step {step + 1}", optimizer.param_groups[0]["lr"],
                     loss=loss.item())
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        n = len(y)
        total_loss += loss.item() * n
        correct += int((logits.detach().numpy().argmax(1) == y.numpy()).sum())
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


def fit(model, optimizer, train_set, test_set, args, run, scheduler=None, augment=None):
    """Train for args.epochs (continuing the run in `run` on --resume); returns the
    history. `scheduler` (optional) is stepped once per batch; `augment` (optional)
    maps an epoch number to the transform applied to that epoch's training batches."""
    history = {"train_loss": [], "test_loss": [], "train_acc": [], "test_acc": [],
               "seconds": []}
    wrapped = isinstance(model, DistributedDataParallel)  # checkpoint the model inside
    states = {"model": model.module if wrapped else model, "optimizer": optimizer}
    if scheduler is not None:
        states["scheduler"] = scheduler
    history, start = run.restore(history, **states)
    test_loader = DataLoader(test_set, 500)
    for epoch in range(start, args.epochs):
        t0 = time.perf_counter()
        loader = epoch_loader(train_set, args, epoch, augment(epoch) if augment else None)
        train_loss, train_acc = train_epoch(model, loader, optimizer,
                                            f"epoch {epoch + 1}/{args.epochs}",
                                            progress=not args.no_progress,
                                            scheduler=scheduler)
        if wrapped:  # the means over every rank's share (the shares are equally long)
            means = minidl.tensor([train_loss, train_acc], dtype=minidl.float64)
            dist.all_reduce(means, "mean")
            train_loss, train_acc = means.tolist()
        seconds = time.perf_counter() - t0
        test_loss, test_acc, _, _ = evaluate(model, test_loader)
        check_finite(f"the end of epoch {epoch + 1}", args.lr, test_loss=test_loss)
        for key, value in zip(history, (train_loss, test_loss, train_acc, test_acc,
                                        seconds)):
            history[key].append(value)
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {train_loss:.4f}, "
              f"test loss {test_loss:.4f}, test accuracy {test_acc:.4f} "
              f"({seconds:.1f} s)")
        if not wrapped or dist.get_rank() == 0:
            run.save(epoch + 1, history, **states)
    return history


def save_metrics(path, args, history, **extra):
    """Write the run's settings, per-epoch history and final numbers as JSON."""
    metrics = {"args": vars(args), "history": history,
               "machine": {"python": platform.python_version(),
                           "processor": platform.processor() or platform.machine(),
                           "numpy": np.__version__}, **extra}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2))
