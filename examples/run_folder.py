"""A training run's --out folder: checked first, never overwritten by accident, and
resumed exactly -- the same helper for every training example.

    run = Run(args, run_flags=("schedule",), schedule="the cosine schedule")
    train_set, test_set = load_mnist(args, run)        # + run.check_data(train_set)
    history, start = run.restore(history, model=model, optimizer=optimizer)
    for epoch in range(start, args.epochs):
        ...
        run.save(epoch + 1, history, model=model, optimizer=optimizer)

What it guarantees, before the first epoch:
  * --out is a folder that can be written (not a file, not read-only);
  * a checkpoint already in --out is never replaced unless asked: without --resume
    (continue it) or --overwrite (start again) the script stops, naming the file;
  * --resume needs a checkpoint, and continues *the run the flags describe*: the
    checkpoint records the flags that shape the numbers (model, schedule, batch
    size, seed, limit, and a fingerprint of the training data). A flag that differs
    stops the script, naming the flag and both values -- except --lr, which is
    applied from the next epoch on (and announced) when no schedule was planned from
    it, and --epochs, which may extend a run whose schedule does not depend on the
    number of epochs: then the resumed run ends exactly where an uninterrupted one
    would (every epoch's batches and noise come from (seed, epoch)).
"""
from __future__ import annotations

import zlib

import numpy as np

import minidl
from minidl import nn
from minidl.tools.serialization import CheckpointError

from flags import check_out_dir, fail
from training import Divergence

COMMON_FLAGS = ("batch_size", "seed", "limit", "lr")


def flag_text(name: str, value) -> str:
    """'--batch-size 32', '--batch-norm on', '--limit (none)'."""
    if isinstance(value, bool):
        value = "on" if value else "off"
    return f"--{name.replace('_', '-')} {'(none)' if value is None else value}"


class Run:
    """The run in args.out: see the module docstring.

    run_flags: the script's own flags that define the run (besides COMMON_FLAGS).
    schedule:  what is planned from --epochs and --lr (e.g. "the cosine learning-rate
               schedule"), if anything: then neither may change on --resume.
    """

    def __init__(self, args, run_flags=(), schedule: str | None = None,
                 name: str = "model.npz"):
        self.args, self.schedule = args, schedule
        self.out = check_out_dir(args, files=(name, "metrics.json"))
        self.checkpoint = self.out / name
        self.flags = {flag: getattr(args, flag) for flag in COMMON_FLAGS + tuple(run_flags)}
        self.data = None       # the training data's fingerprint, see check_data
        self.new_lr = None     # --lr, when it differs from the resumed run's
        self.state = self._resume() if args.resume else self._guard()

    # ------------------------------------------------------------ before any work
    def _guard(self):
        if self.checkpoint.exists() and not self.args.overwrite:
            fail(self.args, f"{self.checkpoint} already holds a training run; pass "
                            "--resume to continue it or --overwrite to start again "
                            "(or choose another --out)")
        return None

    def _resume(self) -> dict:
        args = self.args
        if not self.checkpoint.exists():
            fail(args, f"--resume: there is no checkpoint {self.checkpoint} to continue "
                       "(leave out --resume to start a new run)")
        try:
            state = minidl.load(self.checkpoint)
        except (CheckpointError, OSError) as error:
            fail(args, f"--resume: {error}")
        record = state.get("run") if isinstance(state, dict) else None
        if not (isinstance(record, dict) and isinstance(record.get("flags"), dict)
                and isinstance(state.get("epoch"), int)
                and isinstance(record.get("epochs"), int)):
            fail(args, f"--resume: {self.checkpoint} does not record the flags of its "
                       f"run (not written by this version of {args.prog}); start a new "
                       "run with --overwrite")
        if record.get("script") != args.prog:
            fail(args, f"--resume: {self.checkpoint} was written by "
                       f"{record.get('script')}, not {args.prog}")
        self._compare_flags(record["flags"])
        self._compare_epochs(state["epoch"], record["epochs"])
        return state

    def _compare_flags(self, saved: dict):
        differ = [flag for flag in self.flags
                  if flag != "lr" and saved.get(flag) != self.flags[flag]]
        if differ:
            fail(self.args, f"--resume: {self.checkpoint} was trained with "
                            f"{', '.join(flag_text(f, saved.get(f)) for f in differ)}; "
                            f"this command asks for "
                            f"{', '.join(flag_text(f, self.flags[f]) for f in differ)}. "
                            "Resume with the run's own flags, or start a new run "
                            "(--overwrite, or another --out)")
        if saved.get("lr") != self.flags["lr"]:
            if self.schedule:
                fail(self.args, f"--resume: --lr {self.flags['lr']} differs from the "
                                f"run's {saved.get('lr')}, and {self.schedule} was "
                                "planned from it; keep --lr, or start a new run")
            self.new_lr = self.flags["lr"]
            print(f"--lr {self.new_lr}: replaces the run's learning rate "
                  f"{saved.get('lr')} from the next epoch on")

    def _compare_epochs(self, done: int, planned: int):
        args = self.args
        if args.epochs < done:
            fail(args, f"--resume: {self.checkpoint} has already trained {done} "
                       f"epochs; --epochs {args.epochs} asks for fewer")
        if self.schedule and args.epochs != planned:
            fail(args, f"--resume: {self.schedule} of {self.checkpoint} is planned over "
                       f"--epochs {planned}; with --epochs {args.epochs} an uninterrupted "
                       "run would follow another curve from its first step, so this "
                       f"one cannot be continued into it. Keep --epochs {planned}, or "
                       "start a new run (--overwrite, or another --out)")

    def check_data(self, train_set):
        """Fingerprint the training data; on --resume it must be the run's."""
        data = train_set.data
        crc = zlib.crc32(train_set.targets.tobytes(), zlib.crc32(data.tobytes()))
        self.data = {"examples": len(train_set), "crc32": crc, "source": train_set.source}
        saved = self.state["run"].get("data") if self.state else None
        if saved and (saved.get("examples"), saved.get("crc32")) != (len(train_set), crc):
            fail(self.args, f"--resume: {self.checkpoint} was trained on "
                            f"{saved.get('examples')} images ({saved.get('source')}); "
                            f"this run would train on {len(train_set)} other images "
                            f"({train_set.source}). Name the run's data with --data-dir, "
                            "or start a new run")

    # ------------------------------------------------------------ during training
    def restore(self, history, **objects):
        """Load model/optimizer/scheduler states (keyword = checkpoint key) when
        resuming; returns (history, epochs done) -- else (history, 0)."""
        if self.state is None:
            return history, 0
        for key, obj in objects.items():
            if key not in self.state:
                fail(self.args, f"--resume: {self.checkpoint} has no '{key}' state")
            obj.load_state_dict(self.state[key])
            if self.new_lr is not None and hasattr(obj, "param_groups"):
                for group in obj.param_groups:
                    group["lr"] = self.new_lr
        done = self.state["epoch"]
        print(f"resumed from {self.checkpoint} after epoch {done}"
              + ("; nothing left to train" if done >= self.args.epochs else ""))
        return self.state["history"], done

    def save(self, epoch: int, history, extra=None, **objects):
        """Write the checkpoint: every object's state_dict under its keyword, the
        history, the epoch, `extra` entries, and the run's record for --resume.
        A model whose parameters are no longer finite is not saved: Divergence."""
        for key, obj in objects.items():
            for name, param in (obj.named_parameters() if isinstance(obj, nn.Module)
                                else ()):
                if not np.isfinite(param.detach().numpy()).all():
                    raise Divergence(
                        f"training diverged in epoch {epoch}: {key} parameter {name} "
                        f"is not finite. Try a lower --lr (this run: {self.args.lr:g}); "
                        f"{self.checkpoint} keeps the last finished epoch, if any.")
        state = {key: obj.state_dict() for key, obj in objects.items()}
        state.update(extra or {})
        state.update(history=history, epoch=epoch,
                     run={"script": self.args.prog, "flags": self.flags,
                          "epochs": self.args.epochs, "data": self.data})
        minidl.save(state, self.checkpoint)
