"""Train a variational autoencoder on MNIST (Adam, lr 1e-3, batch 64, 10 epochs).

    python examples/train_vae.py [--model conv|mlp|cvae] [--latent-dim 16] [--epochs 10]
                                 [--batch-size 64] [--lr 1e-3] [--warmup 0] [--seed 0]
                                 [--batch-norm] [--channels 32 64] [--hidden H]
                                 [--depth D]
                                 [--flows T] [--flow-hidden 256]
                                 [--schedule constant|cosine]
                                 [--data-dir DIR] [--out runs/vae] [--limit N]
                                 [--resume | --overwrite]

The loss is the negative ELBO in nats per image (see models/vae.py): pixel
intensities in [0, 1] are the Bernoulli targets, so the reconstruction term cannot go
below the entropy of the grey levels (about 45.5 nats per image on MNIST); numbers
are not comparable to binarized-MNIST papers. --warmup E raises the KL weight beta
linearly from 0 to 1 over the first E epochs (KL warm-up); the reported test
negative ELBO always uses beta = 1. --flows T adds T steps of an inverse
autoregressive flow to the conv model's Gaussian posterior (models/iaf.py);
--model cvae is the conditional VAE (models/cvae.py), told each digit's label.

Prints per-epoch train / test negative ELBO and a health report (models/health.py:
reconstruction and KL in nats, and how many latent units are active), then writes
to --out:
  model.npz         model (+ its config) and optimizer state (continue with --resume;
                    edit images with examples/edit_images.py --checkpoint)
  curves.png        train and test negative ELBO per epoch
  health.png        reconstruction, KL, active units per epoch; KL per latent unit
  reconstructions.png  rows of test digits, each over its reconstructions
  samples.png       64 digits decoded from z ~ N(0, I); for cvae, a row per digit
                    ("draw a 7"), and style.png: test digits redrawn as every digit
  manifold.png      (latent size 2 only) the decoded grid of the latent plane
  metrics.json      settings, history, test negative ELBO, importance-weighted bound
                    on -log p(x) (k = --iw-samples on the first --iw-images test
                    images, with the negative ELBO of those same images), minutes,
                    machine; for cvae, how often the SeedCNN (--classifier) sees the
                    requested digit in --score-samples samples per digit, and the
                    Frechet distance per digit
"""
import math
import pathlib
import time

import numpy as np
from tqdm import tqdm

import minidl
from minidl import optim
from minidl.data import DataLoader
from minidl.tools.plot import plot_history

from models.vae import build_vae
from models import frechet, health
from training import (parse_args, load_mnist, save_metrics, check_finite,
                      run_script)
from flags import fail, nonnegative_float, nonnegative_int, positive_int
from run_folder import Run
from edit_images import tile_figure, manifold_figure

RUN_FLAGS = ("model", "latent_dim", "batch_norm", "warmup", "channels", "hidden",
             "flows", "flow_hidden", "schedule", "textbook_cvae", "depth")


def vae_flags(p):
    p.add_argument("--model", choices=("conv", "mlp", "cvae"), default="conv",
                   help="convolutional VAE, Kingma & Welling's MLP VAE, or the "
                        "conditional conv VAE (told the digit's label)")
    p.add_argument("--latent-dim", type=positive_int, default=16,
                   help="2 gives a manifold plot")
    p.add_argument("--batch-norm", action="store_true",
                   help="BatchNorm after each hidden conv/dense layer (conv models)")
    p.add_argument("--channels", type=positive_int, nargs=2, default=[32, 64],
                   help="the conv models' two conv widths")
    p.add_argument("--depth", type=nonnegative_int, default=0,
                   help="extra 3x3 convolutions at 14x14 in encoder and decoder (conv)")
    p.add_argument("--hidden", type=positive_int, default=None,
                   help="dense hidden units (default: 256 conv, 500 mlp)")
    p.add_argument("--flows", type=nonnegative_int, default=0,
                   help="inverse autoregressive flow steps after the conv model's "
                        "Gaussian posterior (models/iaf.py; 0: none)")
    p.add_argument("--flow-hidden", type=positive_int, default=256,
                   help="hidden units of each flow step's autoregressive network")
    p.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                   help="learning rate: constant, or cosine decay to 0 over the run")
    p.add_argument("--warmup", type=nonnegative_float, default=0.0,
                   help="epochs over which the KL weight rises from 0 to 1")
    p.add_argument("--iw-samples", type=nonnegative_int, default=100,
                   help="k of the importance-weighted bound (0: skip it)")
    p.add_argument("--iw-images", type=positive_int, default=1000,
                   help="test images the importance-weighted bound is computed on")
    p.add_argument("--textbook-cvae", action="store_true",
                   help="cvae with the label only at the decoder's input and the prior "
                        "N(0, I) (for comparison; see models/cvae.py)")
    p.add_argument("--classifier", default=frechet.DEFAULT_CLASSIFIER,
                   help="SeedCNN checkpoint that scores the cvae's samples")
    p.add_argument("--score-samples", type=nonnegative_int, default=1000,
                   help="cvae samples per digit scored by the classifier (0: skip)")


def elbo(model, x, labels, beta=1.0, generator=None):
    """The model's loss terms on a batch (a conditional model is given the labels)."""
    if getattr(model, "conditional", False):
        return model.elbo(x, labels, beta, generator)
    return model.elbo(x, beta, generator)


def encode(model, x, labels):
    """(mu, logvar) of the model's Gaussian posterior (before any flow), mu measured
    from the prior's mean (a conditional model's prior N(m_y, I) depends on y)."""
    if getattr(model, "conditional", False):
        mu, logvar = model.encode(x, labels)
        return mu - model.prior_mean(labels, len(x)), logvar
    return model.encode(x)


def kl_weight(step, steps_per_epoch, warmup_epochs):
    """beta for this step: rises linearly from 0 to 1 over the warm-up, then 1."""
    if warmup_epochs <= 0:
        return 1.0
    return min(1.0, step / (warmup_epochs * steps_per_epoch))


def train_epoch(model, loader, optimizer, epoch, args, desc, scheduler=None):
    """One pass; returns the mean (beta = 1) negative ELBO of the training batches."""
    model.train()
    total, seen = 0.0, 0
    bar = tqdm(loader, desc=desc, leave=False, disable=args.no_progress, unit="batch")
    for i, (x, y) in enumerate(bar):
        beta = kl_weight(epoch * len(loader) + i, len(loader), args.warmup)
        optimizer.zero_grad()
        terms = elbo(model, x, y, beta)
        check_finite(f"{desc}, step {i + 1}", optimizer.param_groups[0]["lr"],
                     loss=terms.loss.item())
        terms.loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += (terms.reconstruction.item() + terms.kl.item()) * len(x)
        seen += len(x)
        bar.set_postfix(neg_elbo=f"{total / seen:.2f}", kl=f"{terms.kl.item():.1f}",
                        beta=f"{beta:.2f}")
    return total / seen


@minidl.no_grad()
def evaluate(model, dataset, seed=0):
    """(negative ELBO, reconstruction, KL, KL per latent unit) averaged over a data
    set, in nats/image. The one z per image comes from a generator seeded with
    `seed`: repeatable."""
    model.eval()
    generator = minidl.Generator(seed)
    sums, per_unit, n = np.zeros(3), 0.0, 0
    for x, y in DataLoader(dataset, 500):
        terms = elbo(model, x, y, generator=generator)
        sums += len(x) * np.array([t.item() for t in terms])
        mu, logvar = encode(model, x, y)
        per_unit = per_unit + health.kl_per_unit(mu.numpy(), logvar.numpy())
        n += len(x)
    return (*(sums / n), per_unit / n)


@minidl.no_grad()
def importance_weighted_bound(model, dataset, images, k, seed=0):
    """(k-sample bound on -log p(x), negative ELBO), both averaged over the first
    `images` examples of dataset -- the same images, so the two compare."""
    model.eval()
    generator = minidl.Generator(seed)
    x = dataset.get_batch(np.arange(min(images, len(dataset))))[0]
    iw, neg_elbo = 0.0, 0.0
    for i in range(0, len(x), 100):
        batch = minidl.tensor(x[i:i + 100])
        iw += model.importance_weighted_bound(batch, k, generator).sum().item()
        neg_elbo += model.elbo(batch, generator=generator).loss.item() * len(batch)
    return iw / len(x), neg_elbo / len(x)


def fit(model, optimizer, train_set, test_set, args, run, scheduler=None):
    """Train for args.epochs (continuing the run in `run` on --resume); returns
    history. `scheduler` (optional) steps once per batch."""
    history = {"train_neg_elbo": [], "test_neg_elbo": [], "test_reconstruction": [],
               "test_kl": [], "seconds": [], "kl_per_unit": []}
    states = {"model": model, "optimizer": optimizer}
    if scheduler is not None:
        states["scheduler"] = scheduler
    history, start = run.restore(history, **states)
    for epoch in range(start, args.epochs):
        loader = DataLoader(train_set, args.batch_size, shuffle=True,
                            seed=args.seed * 1000 + epoch)
        minidl.manual_seed(args.seed * 1000 + epoch)  # the eps of this epoch
        t0 = time.perf_counter()
        train_loss = train_epoch(model, loader, optimizer, epoch, args,
                                 f"epoch {epoch + 1}/{args.epochs}", scheduler)
        seconds = time.perf_counter() - t0
        test_loss, test_rec, test_kl, per_unit = evaluate(model, test_set, args.seed)
        check_finite(f"the end of epoch {epoch + 1}", args.lr, test_neg_elbo=test_loss)
        for key, value in zip(history, (train_loss, test_loss, test_rec, test_kl,
                                        seconds, per_unit.tolist())):
            history[key].append(value)
        print(f"epoch {epoch + 1}/{args.epochs}: train -ELBO {train_loss:.2f}, test "
              f"-ELBO {test_loss:.2f} nats ({seconds:.1f} s)\n  "
              f"{health.vae_health_line(test_rec, test_kl, per_unit)}", flush=True)
        health.plot_vae_health(history, run.out / "health.png")
        run.save(epoch + 1, history, {"config": model.config}, **states)
    return history


def reconstruction_grid(model, test_set, path, n=10, pairs=3):
    """Rows of n test digits, each row followed by its reconstructions (fewer rows
    if the test set is small)."""
    pairs = max(1, min(pairs, -(-len(test_set) // n)))
    x, y = test_set.get_batch(np.arange(min(n * pairs, len(test_set))))
    recon = (model.reconstruct(x, y) if getattr(model, "conditional", False)
             else model.reconstruct(x)).numpy()
    rows = [block for i in range(pairs) for block in (x[i * n:(i + 1) * n],
                                                        recon[i * n:(i + 1) * n])]
    tile_figure(rows, path, "Test digits and their reconstructions",
                ["input", "output"] * pairs)


def conditional_outputs(model, test_set, args, out):
    """The conditional VAE's pictures and numbers: samples.png ("draw a 0" ... "draw
    a 9", one row each), style.png (test digits redrawn as every digit), and -- with
    the classifier -- how often the SeedCNN sees the requested digit, and the
    Frechet distance per class. Returns the scores (or None)."""
    digits = np.arange(10)
    samples = model.sample(np.repeat(digits, 10), minidl.Generator(args.seed)).numpy()
    tile_figure(samples.reshape(10, 10, 28, 28), out / "samples.png",
                "Conditional VAE: z ~ N(m_y, I), decoded as digit y",
                [f"draw a {d}" for d in digits])
    x, y = test_set.get_batch(np.arange(min(len(test_set), 200)))
    picks = [int(np.flatnonzero(y == d)[0]) for d in (3, 7, 2, 4) if (y == d).any()]
    rows = model.transfer_style(x[picks], y[picks]).numpy()
    tile_figure([np.concatenate([x[i][None], r]) for i, r in zip(picks, rows)],
                out / "style.png", "Style transfer: a test digit (left), redrawn as "
                "0-9 with its own style code", [f"a {y[i]}" for i in picks],
                ["input"] + [str(d) for d in digits])
    classifier = (frechet.try_load_classifier(args.classifier, "scoring the samples")
                  if args.score_samples > 0 else None)
    if classifier is None:
        return None
    requested = np.repeat(digits, args.score_samples)
    images = np.concatenate([model.sample(requested[i:i + 1000], minidl.Generator(
        args.seed + 1 + i)).numpy() for i in range(0, len(requested), 1000)])
    test_x, test_y = test_set.get_batch(np.arange(len(test_set)))
    test_features, _ = frechet.classifier_features(classifier, test_x)
    scores = frechet.conditional_scores(images, requested, classifier, test_features,
                                        test_y)
    print(f"the SeedCNN sees the requested digit in {scores['accuracy']:.1%} of "
          f"{len(requested)} samples (per digit: "
          f"{', '.join(f'{a:.0%}' for a in scores['per_class_accuracy'])}); Frechet "
          f"distance per digit: {', '.join(f'{d:.1f}' for d in scores['frechet_per_class'])}"
          f" (all: {scores['frechet']:.2f})")
    return scores


def model_config(args) -> dict:
    """The model the flags ask for, as build_vae's config."""
    config = {"model": args.model, "latent_dim": args.latent_dim}
    if args.model in ("conv", "cvae"):
        config.update(batch_norm=args.batch_norm, channels=list(args.channels))
    if args.depth:
        if args.model != "conv":
            fail(args, "--depth needs --model conv")
        config["depth"] = args.depth
    if args.flows > 0:
        if args.model != "conv":
            fail(args, f"--flows needs --model conv, not --model {args.model}")
        config.update(model="iaf", flows=args.flows, flow_hidden=args.flow_hidden)
    if args.hidden is not None:
        config["hidden"] = args.hidden
    if args.textbook_cvae:
        if args.model != "cvae":
            fail(args, "--textbook-cvae needs --model cvae")
        config.update(every_layer=False, class_prior=False)
    return config


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], epochs=10, batch_size=64, lr=1e-3,
                      out="runs/vae", argv=argv, extra=vae_flags,
                      prog=pathlib.Path(__file__).name)
    config = model_config(args)
    cosine = args.schedule == "cosine"
    run = Run(args, run_flags=RUN_FLAGS,
              schedule="the cosine learning-rate schedule" if cosine else None)
    minidl.manual_seed(args.seed)
    out = run.out
    train_set, test_set = load_mnist(args, run)
    model = build_vae(config)
    print(f"{type(model).__name__} {config}: {model.num_parameters():,} parameters")
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = None
    if cosine:
        steps = args.epochs * math.ceil(len(train_set) / args.batch_size)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    history = fit(model, optimizer, train_set, test_set, args, run, scheduler)

    name = f"{type(model).__name__} (latent {args.latent_dim})"
    iw = iw_elbo = None
    if args.iw_samples > 0 and args.model != "cvae":
        t0 = time.perf_counter()
        iw, iw_elbo = importance_weighted_bound(model, test_set, args.iw_images,
                                                args.iw_samples, args.seed)
        print(f"on the first {min(args.iw_images, len(test_set))} test images: "
              f"importance-weighted bound (k={args.iw_samples}) {iw:.2f} nats, negative "
              f"ELBO {iw_elbo:.2f} nats ({time.perf_counter() - t0:.0f} s)")
    plot_history({k: history[k] for k in ("train_neg_elbo", "test_neg_elbo")},
                 out / "curves.png", title=f"{name}: negative ELBO (nats per image)")
    reconstruction_grid(model, test_set, out / "reconstructions.png")
    scores = None
    if args.model == "cvae":
        scores = conditional_outputs(model, test_set, args, out)
    else:
        samples = model.sample(64, minidl.Generator(args.seed)).numpy()
        tile_figure(samples.reshape(8, 8, 28, 28), out / "samples.png",
                    f"{name}: samples from the prior N(0, I)")
        if args.latent_dim == 2:
            manifold_figure(model, out / "manifold.png")
    minutes = sum(history["seconds"]) / 60
    save_metrics(out / "metrics.json", args, history, config=config,
                 test_neg_elbo=history["test_neg_elbo"][-1], iw_bound=iw,
                 iw_images_neg_elbo=iw_elbo, iw_samples=args.iw_samples,
                 iw_images=min(args.iw_images, len(test_set)), data=train_set.source,
                 conditional_scores=scores,
                 active_units=health.active_units(history["kl_per_unit"][-1]),
                 epochs=len(history["seconds"]), training_minutes=minutes)
    print(f"test negative ELBO {history['test_neg_elbo'][-1]:.2f} nats after "
          f"{len(history['seconds'])} epochs ({minutes:.1f} min); results in {out}/")
    return history


if __name__ == "__main__":
    run_script(main)
