"""Train a GAN on MNIST: DCGAN (default), its WGAN-GP variant, the 2014 MLP GAN, or
a class-conditional DCGAN.

    python examples/train_gan.py [--model dcgan|mlp|cdcgan]
        [--loss non-saturating|minimax|wgan-gp]
        [--epochs 5] [--batch-size 64] [--lr 2e-4] [--width 64] [--hidden 1024]
        [--z-dim 64] [--seed 0]
        [--data-dir DIR] [--out runs/gan] [--limit N] [--resume | --overwrite]
        [--classifier runs/cnn/model.npz] [--fd-samples 10000]
        [--save-samples PATH.npy] [--num-samples 10000]

Each step trains the discriminator D on a batch of real digits (label 1) and of the
generator's images (label 0), then the generator G to make D say 1 on its images.
With --loss wgan-gp, D is a critic without batch norm, trained --n-critic times per
generator step with the gradient penalty (Adam lr 1e-4, betas (0, 0.9), as in the paper).
--model cdcgan is told the digit (models/cgan.py): G(z, y) draws digit y, and D(x, y)
judges "a real y?" (real digits with their labels, fakes with the labels asked for).

Every epoch prints a health report (models/health.py): loss balance, D(x) - D(G(z)),
the range of per-layer gradient norms of both players, and a mode-collapse alarm
from the samples' label entropy; health.png plots them epoch by epoch.

Writes to --out after every epoch:
  model.npz            both networks and optimizers (continue with --resume)
  samples.png          100 digits from the same fixed noise (also samples_epoch_N.png)
  losses.png           D and G losses, D(x) and D(G(z)) over the training steps
  interpolation.png    straight walks in noise space between pairs of z
  health.png           the health report, epoch by epoch
  metrics.json         settings, history, Frechet distance and class coverage (for
                       cdcgan also: how often the SeedCNN sees the requested digit,
                       and the Frechet distance per digit)
The Frechet distance uses the SeedCNN that examples/train_cnn.py saves (--classifier);
without it training still runs and says how to make one. Training that diverges
(NaN losses, or D winning outright for many steps) stops with a message instead of
saving broken samples.
"""
from __future__ import annotations

import pathlib
import time

import numpy as np
from matplotlib.figure import Figure
from tqdm import tqdm

import minidl
from minidl import optim
from minidl.data import DataLoader
from minidl.tools.fileio import atomic_path
from minidl.tools.plot import save_figure, image_grid

from models.gan import (build_gan, discriminator_loss, generator_loss,
                        critic_loss, gradient_penalty)
from models import frechet, health
from models.cgan import ConditionalGenerator, ProjectionDiscriminator
from training import (parse_args, load_mnist, save_metrics, check_finite,
                      run_script, Divergence)
from flags import (check_out_dir, existing_file, fail, nonnegative_float,
                   number, positive_int)
from run_folder import Run

LOSSES = ("non-saturating", "minimax", "wgan-gp")


def gan_flags(p):
    p.add_argument("--model", choices=("dcgan", "mlp", "cdcgan"), default="dcgan",
                   help="cdcgan: class-conditional DCGAN (BCE losses only)")
    p.add_argument("--loss", choices=LOSSES, default="non-saturating",
                   help="generator loss; wgan-gp trains a critic with gradient penalty")
    p.add_argument("--z-dim", type=positive_int, default=64,
                   help="size of the noise vector z")
    p.add_argument("--width", type=positive_int, default=64,
                   help="DCGAN channels (w and 2w)")
    p.add_argument("--hidden", type=positive_int, default=1024,
                   help="DCGAN dense hidden units (G and D)")
    p.add_argument("--n-critic", type=positive_int, default=5,
                   help="critic steps per G step (wgan-gp only)")
    p.add_argument("--gp-lambda", type=nonnegative_float, default=10.0,
                   help="gradient penalty weight")
    p.add_argument("--classifier", type=existing_file, default=None,
                   help="SeedCNN checkpoint for the Frechet distance (train_cnn.py; "
                        f"default: {frechet.DEFAULT_CLASSIFIER}, if it exists)")
    p.add_argument("--fd-samples", type=number(int, lambda v: v == 0 or v >= 2,
                                               "0 (no metric) or at least 2"),
                   default=10_000,
                   help="generated images scored per epoch (0: skip the metric)")
    p.add_argument("--save-samples", default=None, metavar="PATH.npy",
                   help="at the end, write --num-samples images (N,1,28,28) in [0,1]")
    p.add_argument("--num-samples", type=positive_int, default=10_000)


# ------------------------------------------------------------------ divergence
class DivergenceMonitor:
    """Checks every step's numbers: any NaN/inf loss (training.check_finite, as in
    every training loop), or (for the BCE losses) a discriminator loss below `floor`
    for `patience` steps in a row -- D then rejects every fake with certainty and G's
    gradient carries no information."""

    def __init__(self, watch_collapse=True, floor=1e-3, patience=200, lr=None):
        self.watch_collapse, self.floor, self.patience = watch_collapse, floor, patience
        self.lr, self.low_steps = lr, 0

    def check(self, where, **values):
        check_finite(where, self.lr, **values)
        if not self.watch_collapse:
            return
        self.low_steps = self.low_steps + 1 if values["d_loss"] < self.floor else 0
        if self.low_steps >= self.patience:
            raise Divergence(
                f"training collapsed at {where}: the discriminator loss stayed below "
                f"{self.floor} for {self.patience} steps (D(x) {values['d_real']:.4f}, "
                f"D(G(z)) {values['d_fake']:.4f}): D wins outright and G learns nothing.")


# ------------------------------------------------------------------ one training step
def call(net, x, labels=None):
    """net(x), or net(x, labels) for a conditional network."""
    return net(x) if labels is None else net(x, labels)


def discriminator_step(D, d_opt, real, fake, args, noise, real_labels=None,
                       fake_labels=None):
    """One update of D on real images and (detached) fakes (with their labels for a
    conditional D). Returns (loss, D(x), D(G(z))): mean probabilities for a GAN, mean
    raw scores for a WGAN critic."""
    d_opt.zero_grad()
    real_out, fake_out = call(D, real, real_labels), call(D, fake, fake_labels)
    if args.loss == "wgan-gp":
        loss = critic_loss(real_out, fake_out) + gradient_penalty(
            D, real, fake, args.gp_lambda, generator=noise)
        d_real, d_fake = real_out.mean().item(), fake_out.mean().item()
    else:
        loss = discriminator_loss(real_out, fake_out)
        d_real = real_out.sigmoid().mean().item()
        d_fake = fake_out.sigmoid().mean().item()
    loss.backward()
    d_opt.step()
    return loss.item(), d_real, d_fake


def generator_step(G, D, g_opt, fake, kind, labels=None):
    """One update of G through D's verdict on its images."""
    D.requires_grad_(False)  # only G learns here: skip D's weight gradients
    try:
        g_opt.zero_grad()
        loss = generator_loss(call(D, fake, labels), kind)
        loss.backward()
        g_opt.step()
    finally:
        D.requires_grad_(True)
    return loss.item()


def random_labels(G, n, generator):
    """Digits for a conditional G to draw (uniform), else None."""
    if not getattr(G, "conditional", False):
        return None
    return generator.np.integers(0, G.num_classes, n)


def spread_labels(G, n):
    """n digits for a conditional G to draw, each equally often; else None."""
    return np.arange(n) % G.num_classes if getattr(G, "conditional", False) else None


def train_epoch(G, D, g_opt, d_opt, loader, args, epoch, history, monitor, norms):
    """One pass over the data; appends per-step numbers to history["steps"] and each
    step's per-layer gradient norms to norms["g"] / norms["d"]."""
    G.train()
    D.train()
    # noise and gradient-penalty draws from (seed, epoch): a resumed run repeats them
    noise = minidl.Generator(args.seed * 1000 + 500 + epoch)
    n_critic = args.n_critic if args.loss == "wgan-gp" else 1
    kind = "wasserstein" if args.loss == "wgan-gp" else args.loss
    steps = history["steps"]
    bar = tqdm(loader, desc=f"epoch {epoch + 1}/{args.epochs}", leave=False,
               disable=args.no_progress, unit="batch")
    g_loss = float("nan")
    for i, (x, y) in enumerate(bar):
        real = x * 2 - 1  # [0, 1] -> [-1, 1], the range of G's tanh
        z = minidl.randn(len(x), args.z_dim, generator=noise)
        asked = random_labels(G, len(x), noise)
        generator_turn = (i + 1) % n_critic == 0
        with minidl.set_grad_enabled(generator_turn):  # G's graph only when G learns
            fake = call(G, z, asked)
        d_loss, d_real, d_fake = discriminator_step(
            D, d_opt, real, fake.detach(), args, noise,
            None if asked is None else y, asked)
        norms["d"].record(D)
        values = {"d_loss": d_loss, "d_real": d_real, "d_fake": d_fake}
        if generator_turn:
            g_loss = generator_step(G, D, g_opt, fake, kind, asked)
            norms["g"].record(G)
            values["g_loss"] = g_loss
        monitor.check(f"epoch {epoch + 1}, step {i + 1}", **values)
        for key, value in values.items():
            steps[key].append(value)
        bar.set_postfix(D=f"{d_loss:.3f}", G=f"{g_loss:.3f}", Dx=f"{d_real:.3f}",
                        DGz=f"{d_fake:.3f}")


# ------------------------------------------------------------------ pictures
@minidl.no_grad()
def generate(G, z, labels=None, batch_size=500):
    """Images (N, 1, 28, 28) in [0, 1] from noise z (N, z_dim) (and the digits to
    draw, for a conditional G), G in eval mode."""
    G.eval()
    out = [call(G, z[i:i + batch_size],
                None if labels is None else labels[i:i + batch_size]).numpy()
           for i in range(0, len(z), batch_size)]
    return (np.concatenate(out) + 1) / 2


def interpolation_noise(z_dim, rows=6, steps=10, seed=0):
    """rows straight lines in noise space, `steps` points each: (rows*steps, z_dim)."""
    g = minidl.Generator(seed)
    a, b = minidl.randn(rows, 1, z_dim, generator=g), minidl.randn(rows, 1, z_dim,
                                                                    generator=g)
    t = minidl.linspace(0, 1, steps).reshape(1, steps, 1)
    return (a * (1 - t) + b * t).reshape(rows * steps, z_dim)


def smooth(values, window):
    """Moving average (shorter at the start) to see the trend of noisy step losses."""
    v = np.asarray(values, dtype=np.float64)
    c = np.cumsum(np.insert(v, 0, 0.0))
    lo = np.maximum(np.arange(1, len(v) + 1) - window, 0)
    return (c[1:] - c[lo]) / (np.arange(1, len(v) + 1) - lo)


def plot_losses(steps, steps_per_epoch, n_critic, path, critic):
    """Left: D and G losses per step; right: D(x) and D(G(z)); epochs dotted."""
    fig = Figure(figsize=(11, 3.8))
    window = max(len(steps["d_loss"]) // 100, 1)
    panels = (("loss", (("d_loss", "D loss", 1), ("g_loss", "G loss", n_critic))),
              ("critic score" if critic else "D output (probability)",
               (("d_real", "D(x)", 1), ("d_fake", "D(G(z))", 1))))
    for i, (ylabel, curves) in enumerate(panels):
        ax = fig.add_subplot(1, 2, i + 1)
        for key, label, every in curves:
            values = steps[key]
            x = np.arange(1, len(values) + 1) * every
            line, = ax.plot(x, values, alpha=0.2, linewidth=0.6)
            ax.plot(x, smooth(values, window), color=line.get_color(), label=label)
        for e in range(steps_per_epoch, len(steps["d_loss"]), steps_per_epoch):
            ax.axvline(e, color="gray", linestyle=":", linewidth=0.8)
        ax.set_xlabel("step (dotted: epochs)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("GAN training")
    save_figure(fig, path)


# ------------------------------------------------------------------ the metric
class Scorer:
    """Frechet distance (generated vs test) and class coverage with the SeedCNN; the
    real-data floor (train vs test) is computed once. None if no classifier exists."""

    @classmethod
    def create(cls, args, train_set, test_set):
        model = (frechet.try_load_classifier(args.classifier or frechet.DEFAULT_CLASSIFIER,
                                             "the Frechet distance")
                 if args.fd_samples > 0 else None)
        return None if model is None else cls(model, train_set, test_set)

    def __init__(self, model, train_set, test_set):
        self.model = model
        n = len(test_set)
        test_images = test_set.get_batch(np.arange(n))[0]
        pick = np.random.default_rng(0).choice(len(train_set), min(n, len(train_set)),
                                               replace=False)
        train_images = train_set.get_batch(np.sort(pick))[0]
        self.test_labels = test_set.get_batch(np.arange(n))[1]
        self.test_features, _ = frechet.classifier_features(model, test_images)
        train_features, _ = frechet.classifier_features(model, train_images)
        self.floor = frechet.frechet_distance_features(train_features, self.test_features)
        print(f"Frechet distance floor (train vs test, {n} real images each): "
              f"{self.floor:.3f}")

    def __call__(self, images, requested=None):
        """The scores of samples; with the digits they were asked to be (requested),
        also under "conditional": frechet.conditional_scores."""
        scores = frechet.score_samples(images, self.model, self.test_features)
        if requested is not None:
            scores["conditional"] = frechet.conditional_scores(
                images, requested, self.model, self.test_features, self.test_labels)
        return scores


# ------------------------------------------------------------------ the run
def checkpoint_config(args):
    return {"model": args.model, "loss": args.loss, "z_dim": args.z_dim,
            "width": args.width, "hidden": args.hidden}


def default_lr(args):
    """The paper's rate: 2e-4 for DCGAN, 1e-4 for WGAN-GP, unless --lr gives one."""
    return args.lr if args.lr is not None else (1e-4 if args.loss == "wgan-gp" else 2e-4)


def optimizers(G, D, args):
    """Adam for both players: lr 2e-4, betas (0.5, 0.999) (DCGAN), or for WGAN-GP
    lr 1e-4, betas (0, 0.9) (Gulrajani et al.); --lr overrides the rate."""
    betas = (0.0, 0.9) if args.loss == "wgan-gp" else (0.5, 0.999)
    return (optim.Adam(G.parameters(), lr=args.lr, betas=betas),
            optim.Adam(D.parameters(), lr=args.lr, betas=betas))


def check_outputs(args, train_set, test_set):
    """What can be checked before the first epoch: a full batch of data exists (the
    loader drops incomplete ones), the classifier (if any) loads and has test images
    to compare with, and --save-samples can be written."""
    if args.batch_size > len(train_set):
        fail(args, f"--batch-size {args.batch_size} is more than the {len(train_set)} "
                   "training images: every batch would be incomplete and dropped")
    classifier = args.classifier or frechet.DEFAULT_CLASSIFIER
    if args.fd_samples > 0 and pathlib.Path(classifier).exists():
        if len(test_set) < 2:
            fail(args, f"the Frechet distance needs at least 2 test images, --limit "
                       f"{args.limit} leaves {len(test_set)}; pass --fd-samples 0 or a "
                       "larger --limit")
        try:
            frechet.load_classifier(classifier)
        except Exception as error:  # a damaged or foreign checkpoint
            fail(args, f"--classifier {classifier}: {error}")
    if args.save_samples:
        path = pathlib.Path(args.save_samples)
        if path.is_dir():
            fail(args, f"--save-samples {path} is a folder; name a file, e.g. "
                       f"{path / 'samples.npy'}")
        check_out_dir(args, path.parent, files=(path.name,), flag="--save-samples")


def build_players(args):
    """(G, D) for --model and --loss."""
    if args.model != "cdcgan":
        return build_gan(args.model, "wasserstein" if args.loss == "wgan-gp"
                         else args.loss, args.z_dim, args.width, args.hidden)
    return (ConditionalGenerator(args.z_dim, args.width, args.hidden),
            ProjectionDiscriminator(args.width, hidden=args.hidden))


def display_inputs(G, args):
    """Fixed inputs of the pictures: (noise, labels) of the 10x10 sample grid and of
    the interpolation rows (labels None for an unconditional G). A conditional G
    draws digit r in row r, with the same 10 noise vectors in every row (one style
    per column), and interpolates with one digit per row."""
    interp = interpolation_noise(args.z_dim, seed=args.seed + 1)
    if not getattr(G, "conditional", False):
        return (minidl.randn(100, args.z_dim, generator=minidl.Generator(args.seed)),
                None, interp, None)
    styles = minidl.randn(10, args.z_dim, generator=minidl.Generator(args.seed))
    return (styles.reshape(1, 10, -1).expand(10, 10, args.z_dim).reshape(100, -1),
            np.repeat(np.arange(10), 10), interp, np.repeat(np.arange(6), 10))


def save_epoch_outputs(G, out, epoch, display, history, args):
    fixed_noise, fixed_labels, interp_noise, interp_labels = display
    title = f"{args.model.upper()} ({args.loss}), epoch {epoch}" + (
        "; row r: draw an r" if fixed_labels is not None else "")
    grid = image_grid(generate(G, fixed_noise, fixed_labels),
                      out / f"samples_epoch_{epoch}.png", nrow=10, title=title)
    save_figure(grid, out / "samples.png")  # the latest grid under a fixed name
    image_grid(generate(G, interp_noise, interp_labels), out / "interpolation.png",
               nrow=10, title="Straight lines in noise space: z1 (left) to z2 (right)")
    health.plot_gan_health(history["epochs"], out / "health.png")
    plot_losses(history["steps"], history["steps_per_epoch"],
                args.n_critic if args.loss == "wgan-gp" else 1, out / "losses.png",
                critic=args.loss == "wgan-gp")


def describe(record, epochs):
    """One line per epoch: mean losses and D outputs, time, and the metric if known."""
    text = (f"epoch {record['epoch']}/{epochs}: D loss {record['d_loss']:.4f}, "
            f"G loss {record['g_loss']:.4f}, D(x) {record['d_real']:.3f}, "
            f"D(G(z)) {record['d_fake']:.3f} ({record['seconds']:.1f} s)")
    if "frechet_distance" in record:
        coverage = record["coverage"]
        text += (f"; Frechet distance {record['frechet_distance']:.3f} (real floor "
                 f"{record['frechet_floor']:.3f}), {coverage['classes_seen']}/10 digits, "
                 f"label entropy {coverage['entropy']:.3f} of "
                 f"{coverage['max_entropy']:.3f}, {record['confident']:.0%} recognisable "
                 f"(classified with probability >= 0.9)")
    if "conditional" in record:
        scores = record["conditional"]
        text += (f"; the requested digit in {scores['accuracy']:.1%} of samples; "
                 f"Frechet distance per digit " +
                 " ".join(f"{d:.1f}" for d in scores["frechet_per_class"]))
    return text


def score_epoch(scorer, G, args, noise):
    """The scores of --fd-samples samples (a conditional G draws each digit equally
    often), or {} without a scorer."""
    if scorer is None:
        return {}
    z = minidl.randn(args.fd_samples, args.z_dim, generator=noise)
    labels = spread_labels(G, args.fd_samples)
    return {**scorer(generate(G, z, labels), labels), "frechet_floor": scorer.floor}


def save_samples(G, args):
    """--save-samples: --num-samples images from fixed noise (digits spread evenly
    for a conditional G) as one .npy array in [0, 1], for python -m models.frechet."""
    z = minidl.randn(args.num_samples, args.z_dim, generator=minidl.Generator(
        args.seed + 3))
    images = generate(G, z, spread_labels(G, args.num_samples)).astype(np.float32)
    with atomic_path(args.save_samples) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, images)
    print(f"wrote {len(images)} samples {images.shape} in [0, 1] to "
          f"{args.save_samples}")


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], epochs=5, batch_size=64, lr=None,
                      out="runs/gan", argv=argv, extra=gan_flags,
                      prog=pathlib.Path(__file__).name)
    args.lr = default_lr(args)
    if args.model == "cdcgan" and args.loss == "wgan-gp":
        fail(args, "--model cdcgan trains with the BCE losses only, not --loss wgan-gp")
    run = Run(args, run_flags=("model", "loss", "z_dim", "width", "hidden",
                               "n_critic", "gp_lambda"))
    minidl.manual_seed(args.seed)
    out = run.out
    train_set, test_set = load_mnist(args, run)
    check_outputs(args, train_set, test_set)
    G, D = build_players(args)
    g_opt, d_opt = optimizers(G, D, args)
    display = display_inputs(G, args)
    history = {"steps": {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []},
               "epochs": [], "steps_per_epoch": 0}
    history, start = run.restore(history, generator=G, discriminator=D,
                                 g_optimizer=g_opt, d_optimizer=d_opt)
    if not getattr(G, "conditional", False):
        G.summary((2, args.z_dim))
        D.summary((2, 1, 28, 28))
    scorer = None
    monitor = DivergenceMonitor(watch_collapse=args.loss != "wgan-gp", lr=args.lr)
    score_noise = minidl.Generator(args.seed + 2)
    norms = {"g": health.GradNormLog(), "d": health.GradNormLog()}

    for epoch in range(start, args.epochs):
        loader = DataLoader(train_set, args.batch_size, shuffle=True, drop_last=True,
                            seed=args.seed * 1000 + epoch)
        history["steps_per_epoch"] = len(loader)
        before = {key: len(values) for key, values in history["steps"].items()}
        t0 = time.perf_counter()
        try:
            train_epoch(G, D, g_opt, d_opt, loader, args, epoch, history, monitor, norms)
        except Divergence as error:
            save_metrics(out / "metrics.json", args, history, diverged=str(error))
            raise
        record = {"epoch": epoch + 1, "seconds": time.perf_counter() - t0,
                  **{key: float(np.mean(values[before[key]:]))  # this epoch's means
                     for key, values in history["steps"].items()},
                  "g_grad_norms": norms["g"].epoch_means(),
                  "d_grad_norms": norms["d"].epoch_means()}
        if scorer is None:  # (tried every epoch: the classifier may appear meanwhile)
            scorer = Scorer.create(args, train_set, test_set)
        record.update(score_epoch(scorer, G, args, score_noise))
        history["epochs"].append(record)
        print(describe(record, args.epochs))
        print(health.gan_health_line(record), flush=True)
        run.save(epoch + 1, history, {"config": checkpoint_config(args)}, generator=G,
                 discriminator=D, g_optimizer=g_opt, d_optimizer=d_opt)
        save_epoch_outputs(G, out, epoch + 1, display, history, args)
        save_metrics(out / "metrics.json", args, history, final=record,
                     seconds_per_epoch=np.mean([e["seconds"] for e in history["epochs"]]))

    if args.save_samples:
        save_samples(G, args)
    print(f"results in {out}/")
    return history


if __name__ == "__main__":
    run_script(main)
