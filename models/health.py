"""Health reports for generative training: numbers that say, epoch by epoch, whether
a GAN or a VAE is learning or quietly failing -- printed and plotted by the examples.

GAN
  * loss balance D/G and the outputs D(x), D(G(z)): D winning outright (D(G(z)) near
    0, G's loss growing) starves G of gradient; both stuck at 0.5 and log 2 means
    neither learns.
  * per-layer gradient norms of both players, ||dL/dW|| summed over a layer's
    parameters, averaged over the epoch's steps: vanishing (1e-6) or exploding norms
    show where learning stops.
  * mode-collapse alarm: the entropy of the SeedCNN's labels of the samples (models/
    frechet.py, class_coverage) below 90% of log 10, or a digit missing, means G makes
    only some digits.
VAE
  * reconstruction and KL in nats, separately (their sum is the negative ELBO);
  * active latent units: a unit is active when its KL(q(z_j | x) || N(0, 1)),
    averaged over the test images, exceeds 0.01 nats; an inactive unit carries no
    information about x ("posterior collapse" when most are).
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from minidl.tools.plot import save_figure

ACTIVE_KL = 0.01          # nats: a latent unit with more mean KL is "active"
COLLAPSE_ENTROPY = 0.9    # alarm below this fraction of the maximum label entropy


# ------------------------------------------------------------------ GAN
def layer_grad_norms(module) -> dict:
    """{"name Kind": ||gradient|| over that layer's parameters} for the layers of
    `module` whose parameters have a .grad (e.g. right after backward); e.g.
    {"net.0 Linear": 0.12, "net.1 BatchNorm1d": 0.03}."""
    kinds = {name: type(m).__name__ for name, m in module.named_modules()}
    squares = {}
    for name, p in module.named_parameters():
        if p.grad is not None:
            owner = name.rsplit(".", 1)[0] if "." in name else ""
            layer = f"{owner} {kinds.get(owner, '')}".strip()
            # one pass, no temporaries (a float64 copy of a 6.4M-entry gradient and
            # its square cost ~35 ms, a third of a GAN step); float32 dot as clip_grad
            norm = float(np.linalg.norm(p.grad.numpy().ravel()))
            squares[layer] = squares.get(layer, 0.0) + norm * norm
    return {layer: math.sqrt(s) for layer, s in squares.items()}


class GradNormLog:
    """Per-step gradient norms of one player, summarised per epoch."""

    def __init__(self):
        self.steps = []

    def record(self, module):
        self.steps.append(layer_grad_norms(module))

    def epoch_means(self) -> dict:
        """{layer: mean norm over the steps recorded since the last call}."""
        layers = {k for step in self.steps for k in step}
        means = {k: float(np.mean([s[k] for s in self.steps if k in s]))
                 for k in sorted(layers, key=_layer_order)}
        self.steps = []
        return means


def _layer_order(name: str):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p)
            for p in name.split(" ")[0].split(".")]


def collapse_alarm(coverage: dict) -> str | None:
    """A warning if the samples' label histogram (class_coverage) looks collapsed."""
    entropy, top = coverage["entropy"], coverage["max_entropy"]
    if entropy < COLLAPSE_ENTROPY * top or coverage["classes_seen"] < len(
            coverage["counts"]):
        return (f"MODE COLLAPSE ALARM: label entropy {entropy:.3f} of {top:.3f}, "
                f"{coverage['classes_seen']}/{len(coverage['counts'])} digits seen")
    return None


def gan_health_line(record: dict) -> str:
    """One line: loss balance, D outputs, gradient norm ranges, collapse check."""
    ratio = record["d_loss"] / max(abs(record["g_loss"]), 1e-12)
    parts = [f"D/G loss {ratio:.2f}", f"D(x) - D(G(z)) "
             f"{record['d_real'] - record['d_fake']:+.3f}"]
    for player in ("g", "d"):
        norms = record.get(f"{player}_grad_norms")
        if norms:
            parts.append(f"{player.upper()} grad norms {min(norms.values()):.2g}.."
                         f"{max(norms.values()):.2g} over {len(norms)} layers")
    if "coverage" in record:
        parts.append(collapse_alarm(record["coverage"]) or "no collapse")
    return "health: " + "; ".join(parts)


def plot_gan_health(records: list, path):
    """Per epoch: D(x) and D(G(z)); D and G loss; per-layer gradient norms of G and
    of D (log scale); label entropy against the collapse threshold."""
    epochs = [r["epoch"] for r in records]
    fig = Figure(figsize=(13, 7), layout="constrained")
    ax = fig.add_subplot(2, 3, 1)
    for key, label in (("d_real", "D(x)"), ("d_fake", "D(G(z))")):
        ax.plot(epochs, [r[key] for r in records], "o-", label=label)
    _finish(ax, "D outputs (epoch means)")
    ax = fig.add_subplot(2, 3, 2)
    for key, label in (("d_loss", "D loss"), ("g_loss", "G loss")):
        ax.plot(epochs, [r[key] for r in records], "o-", label=label)
    _finish(ax, "losses (epoch means)")
    for i, player in enumerate(("g", "d")):
        ax = fig.add_subplot(2, 3, 4 + i)
        layers = records[-1].get(f"{player}_grad_norms", {})
        for layer in layers:
            ax.semilogy(epochs, [r[f"{player}_grad_norms"].get(layer, np.nan)
                                 for r in records], "o-", label=layer)
        _finish(ax, f"{player.upper()}: gradient norm per layer")
    ax = fig.add_subplot(2, 3, 3)
    scored = [r for r in records if "coverage" in r]
    if scored:
        top = scored[0]["coverage"]["max_entropy"]
        ax.plot([r["epoch"] for r in scored], [r["coverage"]["entropy"] for r in scored],
                "o-", label="label entropy")
        ax.axhline(COLLAPSE_ENTROPY * top, color="red", linestyle=":",
                   label="collapse alarm")
        ax.axhline(top, color="gray", linestyle="--", label="log 10")
    _finish(ax, "class coverage of samples")
    fig.suptitle("GAN health, epoch by epoch")
    return save_figure(fig, path)


# ------------------------------------------------------------------ VAE
def kl_per_unit(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL(N(mu_j, exp(logvar_j)) || N(0, 1)) per latent unit j, summed over the rows:
    1/2 (mu^2 + exp(logvar) - 1 - logvar). (N, D) arrays -> (D,) float64."""
    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    return 0.5 * (mu * mu + np.exp(logvar) - 1 - logvar).sum(0)


def active_units(mean_kl_per_unit) -> int:
    """How many latent units carry information: mean KL per unit > 0.01 nats."""
    return int((np.asarray(mean_kl_per_unit) > ACTIVE_KL).sum())


def vae_health_line(reconstruction: float, kl: float, mean_kl_per_unit) -> str:
    units = np.asarray(mean_kl_per_unit)
    return (f"health: reconstruction {reconstruction:.2f} + KL {kl:.2f} nats; "
            f"{active_units(units)}/{len(units)} active latent units (KL > "
            f"{ACTIVE_KL} nats; per unit {units.min():.2f}..{units.max():.2f})")


def plot_vae_health(history: dict, path):
    """Per epoch: test reconstruction and KL (nats); active units; and the KL of each
    latent unit after the last epoch."""
    epochs = np.arange(1, len(history["test_kl"]) + 1)
    fig = Figure(figsize=(13, 3.8), layout="constrained")
    ax = fig.add_subplot(1, 3, 1)
    ax.plot(epochs, history["test_reconstruction"], "o-", label="reconstruction")
    ax.plot(epochs, history["test_kl"], "o-", label="KL")
    _finish(ax, "test: reconstruction and KL (nats)")
    ax = fig.add_subplot(1, 3, 2)
    ax.plot(epochs, [active_units(k) for k in history["kl_per_unit"]], "o-")
    ax.set_ylim(0, len(history["kl_per_unit"][-1]) + 1)
    _finish(ax, f"active latent units (KL > {ACTIVE_KL} nats)", legend=False)
    ax = fig.add_subplot(1, 3, 3)
    last = np.asarray(history["kl_per_unit"][-1])
    ax.bar(np.arange(len(last)), last)
    ax.axhline(ACTIVE_KL, color="red", linestyle=":")
    ax.set_xlabel("latent unit")
    _finish(ax, "KL per unit after the last epoch (nats)", legend=False, xlabel=None)
    fig.suptitle("VAE health, epoch by epoch")
    return save_figure(fig, path)


def _finish(ax, title, legend=True, xlabel="epoch"):
    ax.set_title(title, fontsize=10)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


__all__ = ["layer_grad_norms", "GradNormLog", "collapse_alarm", "gan_health_line",
           "plot_gan_health", "kl_per_unit", "active_units", "vae_health_line",
           "plot_vae_health"]
