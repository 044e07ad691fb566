"""Plotting helpers (matplotlib): training curves, image grids, confusion matrices,
convolution filters and feature maps, and per-layer histograms and curves (what each
layer outputs, and the gradients reaching it, as training goes on). Every function
writes a PNG (or SVG/PDF, by the path's suffix) atomically and also returns the
matplotlib Figure.

Figures are made with matplotlib's object API (`Figure`), not pyplot, so no window
or display is needed and nothing global changes.
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .fileio import atomic_path


def _array(x) -> np.ndarray:
    return np.asarray(x.detach().numpy() if hasattr(x, "detach") else x)


def save_figure(fig: Figure, path) -> Figure:
    """Write fig to path atomically (format from the suffix, 120 dpi)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format=tmp.suffix.lstrip("."))
    return fig


def plot_history(history: dict, path=None, title="Training") -> Figure:
    """Curves per epoch: one panel for every key holding 'loss', one for 'acc'.

    history: {"train_loss": [...], "test_loss": [...], "test_acc": [...]} (any names).
    """
    loss_keys = [k for k in history if "loss" in k or "elbo" in k]
    acc_keys = [k for k in history if "acc" in k]
    panels = [keys for keys in (loss_keys, acc_keys) if keys]
    fig = Figure(figsize=(5 * len(panels), 3.6))
    for i, keys in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for k in keys:
            values = history[k]
            ax.plot(range(1, len(values) + 1), values, marker="o", label=k)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("accuracy" if keys is acc_keys else "loss")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    if path is not None:
        save_figure(fig, path)
    return fig


def make_grid(images, nrow=8, padding=2, pad_value=np.nan) -> np.ndarray:
    """Tile images (N, H, W) or (N, 1, H, W) into one 2-D array, nrow per row, with
    `padding` pixels of pad_value between them (as torchvision.utils.make_grid).
    The default pad, NaN, is drawn as the figure's background."""
    imgs = _array(images)
    if imgs.ndim == 4 and imgs.shape[1] == 1:
        imgs = imgs[:, 0]
    if imgs.ndim != 3:
        raise ValueError(f"make_grid: expected images of shape (N, H, W) or "
                         f"(N, 1, H, W), got {_array(images).shape}")
    n, h, w = imgs.shape
    rows = -(-n // nrow)
    grid = np.full((rows * (h + padding) + padding, nrow * (w + padding) + padding),
                   pad_value, dtype=np.float32)
    for i, image in enumerate(imgs):
        top, left = padding + (i // nrow) * (h + padding), padding + (i % nrow) * (w + padding)
        grid[top:top + h, left:left + w] = image
    return grid


def image_grid(images, path=None, nrow=8, title=None, cmap="gray",
               normalize=False) -> Figure:
    """Draw images (N, H, W) or (N, 1, H, W) as one tiled picture (one imshow, so
    hundreds of digits draw fast).

    Values are shown in [0, 1] unless normalize=True (then each image is stretched
    to its own min..max, as for filters and feature maps)."""
    imgs = _array(images).astype(np.float32)
    if imgs.ndim == 4 and imgs.shape[1] == 1:
        imgs = imgs[:, 0]
    if normalize:
        lo = imgs.min(axis=(-2, -1), keepdims=True)
        hi = imgs.max(axis=(-2, -1), keepdims=True)
        imgs = (imgs - lo) / (hi - lo + 1e-12)
    ncol = min(nrow, len(imgs))
    grid = make_grid(imgs, ncol)
    nrows, cell = -(-len(imgs) // ncol), 0.8  # inches per image
    fig = Figure(figsize=(ncol * cell + 0.2, nrows * cell + (0.5 if title else 0.1)))
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    if path is not None:
        save_figure(fig, path)
    return fig


def confusion_matrix(targets, predictions, num_classes=10) -> np.ndarray:
    """counts[i, j] = how many examples of true class i were predicted as class j."""
    t, p = _array(targets).astype(np.int64), _array(predictions).astype(np.int64)
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    return counts


def plot_confusion_matrix(counts, path=None, title="Confusion matrix") -> Figure:
    counts = _array(counts)
    k = counts.shape[0]
    fig = Figure(figsize=(5.5, 4.8))
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(counts, cmap="Blues")
    fig.colorbar(im, ax=ax)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if counts[i, j] > counts.max() / 2 else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_filters(weight, path=None, title="First-layer filters") -> Figure:
    """Show the input-channel-0 slice of each kernel of a conv weight (O, C, KH, KW):
    white is 0, red positive, blue negative (each filter scaled by its largest |w|)."""
    w = _array(weight)[:, 0]
    scale = np.abs(w).max(axis=(1, 2), keepdims=True) + 1e-12
    return image_grid(0.5 + 0.5 * w / scale, path, nrow=8, title=title, cmap="bwr")


def plot_feature_maps(maps, path=None, title="Feature maps", nrow=8) -> Figure:
    """Show each channel of one image's activations (C, H, W) as its own panel."""
    return image_grid(_array(maps), path, nrow=nrow, title=title, cmap="viridis",
                      normalize=True)


def _light_to_dark(n):
    """n colours from light (first: early step, first layer) to dark (last)."""
    return colormaps["viridis_r"](np.linspace(0.15, 1.0, n))


def _nonzero(values, log_abs) -> np.ndarray:
    """The values that are not exactly 0, flattened (as log10|value| if log_abs)."""
    v = _array(values).ravel()
    v = v[v != 0]
    return np.log10(np.abs(v)) if log_abs else v


def _bin_edges(arrays, bins) -> np.ndarray:
    """Equal bins over what the arrays hold (0.1 to 99.9 percentile, 5% margins)."""
    lo, hi = np.percentile(np.concatenate(arrays), [0.1, 99.9])
    margin = 0.05 * (hi - lo)
    return np.linspace(lo - margin, hi + margin, bins + 1)


def plot_layer_histograms(runs, path=None, title=None, xlabel="value", log_abs=False,
                          sharex="col", bins=50) -> Figure:
    """Histograms of each layer's values (rows) as training goes on (one curve per
    recorded step, light = early, dark = late), one column per run.

    runs: {run name: {layer name: {step: array of values}}}.
    Exact zeros (e.g. from ReLUs that are off) are left out of the curves, which would
    otherwise be one spike; each panel says what fraction of the last step's values
    were zero. log_abs=True histograms log10|value|, for gradients, whose sizes span
    many orders of magnitude. sharex: "col" gives each run its own x range, "all"
    one range for all panels (to compare sizes across runs).
    """
    layers = list(next(iter(runs.values())))
    fig = Figure(figsize=(3.6 * len(runs) + 1.4, 0.8 * len(layers) + 1.0))
    fig.subplots_adjust(hspace=0.6, wspace=0.1)
    axes = fig.subplots(len(layers), len(runs), squeeze=False, sharex=sharex)
    for j, (run, per_layer) in enumerate(runs.items()):
        shown = runs.values() if sharex == "all" else [per_layer]
        edges = _bin_edges([_nonzero(v, log_abs) for p in shown for per_step in p.values()
                            for v in per_step.values()], bins)
        for i, layer in enumerate(layers):
            ax = axes[i, j]
            per_step = per_layer[layer]
            for (step, v), color in zip(per_step.items(), _light_to_dark(len(per_step))):
                counts, _ = np.histogram(_nonzero(v, log_abs), edges)
                ax.stairs(counts / max(counts.max(), 1), edges, color=color, lw=1.2,
                          label=f"step {step}")
            last = _array(list(per_step.values())[-1])
            if (last == 0).any():
                ax.text(1.0, 1.0, f"{(last == 0).mean():.0%} zero", fontsize=7,
                        ha="right", va="bottom", transform=ax.transAxes)
            ax.set_yticks([])
            ax.spines[["top", "right", "left"]].set_visible(False)
            if j == 0:
                ax.set_ylabel(layer, rotation=0, ha="right", va="center")
        axes[0, j].set_title(run)
        axes[-1, j].set_xlabel(f"log10 |{xlabel}|" if log_abs else xlabel)
    axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False,
                       fontsize=8)
    if title:
        fig.suptitle(title)
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_layer_curves(runs, path=None, title=None, ylabel="value", losses=None) -> Figure:
    """One panel per run with a curve per layer (first layer light, last dark) of a
    value over training steps, on a log scale shared by the panels -- e.g. each
    layer's gradient norm. losses={run name: loss per step} adds a panel of losses.

    runs: {run name: {layer name: (steps, values)}}.
    """
    n = len(runs) + (losses is not None)
    fig = Figure(figsize=(4.2 * n, 3.6), layout="constrained")
    axes = []
    for k, (run, per_layer) in enumerate(runs.items()):
        ax = fig.add_subplot(1, n, k + 1, sharey=axes[0] if axes else None)
        axes.append(ax)
        for (layer, (steps, values)), color in zip(per_layer.items(),
                                                   _light_to_dark(len(per_layer))):
            ax.plot(steps, values, color=color, lw=0.9, label=layer)
        ax.set_yscale("log")
        ax.set_title(run)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(ylabel)
    ax.legend(fontsize=7, ncol=2)
    if losses is not None:
        ax = fig.add_subplot(1, n, n)
        for run, values in losses.items():
            ax.plot(range(len(values)), values, lw=0.9, label=run)
        ax.set_title("training loss")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    if path is not None:
        save_figure(fig, path)
    return fig
