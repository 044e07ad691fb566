"""The edits of models/deformation.py, tone.py, enhancement.py and cvae.py on one
digit (the user's --image, or a test digit), one PNG each, and their scores on many
test digits. Used by edit_images.py, which loads the models and the data.

    deform_affine.png    the digit turned, sheared and shrunk; its plausible
                         versions (encode; MAP fit); the model's plausibility of each
    deform_elastic.png   the same with a random smooth (elastic) field
    tone_brightness.png, tone_contrast.png, tone_gamma.png   three settings each
    tone_thickness.png   erode / dilate (plain) vs the VAE's thickness direction
    enhance_deblur.png   blurred (sigma 2) -> MAP restoration -> + consistency step
    enhance_superres.png 14x14 -> bilinear -> MAP -> + consistency step
    style_transfer.png   (with a conditional VAE) the digit redrawn as 0-9
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

import minidl
from minidl.tools.plot import save_figure

from models import deformation, tone, enhancement

BLUR_SIGMA = 2.0
AFFINE = dict(angle=30.0, shear=(25.0, 0.0), scale=0.85)
ELASTIC = dict(alpha=40.0, sigma=4.0)
THICKNESS = 1.0   # strength of the latent thickness edit


def panels_figure(panels, path, title):
    """A row of images, each with a caption under it: [(image, caption), ...]."""
    fig = Figure(figsize=(2.0 * len(panels), 2.6), layout="constrained")
    for i, (image, caption) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.imshow(np.squeeze(np.asarray(image)), cmap="gray", vmin=0, vmax=1)
        ax.set_xlabel(caption, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def _np(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def mse(a, b) -> float:
    return float(((_np(a) - _np(b)) ** 2).mean())


# ------------------------------------------------------------------ one digit, one PNG each
def deformation_figures(model, digit, out):
    warped = {"affine": deformation.warp_affine(digit, **AFFINE),
              "elastic": deformation.warp_elastic(digit, generator=minidl.Generator(1),
                                                  **ELASTIC)}
    names = {"affine": f"turned {AFFINE['angle']:g} deg, sheared "
                       f"{AFFINE['shear'][0]:g} deg, scaled {AFFINE['scale']:g}",
             "elastic": f"elastic field, alpha {ELASTIC['alpha']:g}, "
                        f"sigma {ELASTIC['sigma']:g}"}
    for kind, image in warped.items():
        versions = [(digit, "your digit"), (image, "warped"),
                    (deformation.project(model, image, "encode"), "plausible: encode"),
                    (deformation.project(model, image, "map"), "plausible: MAP fit")]
        nats = deformation.plausibility(model, np.stack([_np(v) for v, _ in versions]))
        panels_figure([(v, f"{c}\n{n:.0f} nats") for (v, c), n in zip(versions, nats)],
                      out / f"deform_{kind}.png",
                      f"Deformation: {names[kind]}; nats: -log p(x) - H(x) under the "
                      "VAE (lower = more digit-like)")


def tone_figures(model, digit, direction, out):
    settings = {"brightness": (tone.adjust_brightness, (0.5, 1.0, 1.6)),
                "contrast": (tone.adjust_contrast, (0.4, 1.0, 2.5)),
                "gamma": (tone.adjust_gamma, (0.4, 1.0, 2.5))}
    for name, (edit, values) in settings.items():
        panels_figure([(edit(digit, v), f"{name} {v:g}\nink {tone.ink(edit(digit, v))[0]:.0f}")
                       for v in values], out / f"tone_{name}.png",
                      f"Tone: {name} (1 = unchanged); ink = sum of grey levels")
    versions = [(tone.erode(digit), "erode 1 px"), (digit, "your digit"),
                (tone.dilate(digit), "dilate 1 px"),
                (tone.change_thickness(model, digit, direction, -THICKNESS),
                 "VAE: thinner"),
                (model.reconstruct(digit), "VAE: as drawn"),
                (tone.change_thickness(model, digit, direction, THICKNESS),
                 "VAE: thicker")]
    panels_figure([(v, f"{c}\nink {tone.ink(v)[0]:.0f}") for v, c in versions],
                  out / "tone_thickness.png", "Stroke thickness: morphology (left) vs "
                  f"the VAE's latent thickness direction, strength {THICKNESS:g} (right)")


def enhancement_figures(model, digit, out):
    clean = minidl.tensor(_np(digit)[None])
    blurred = enhancement.gaussian_blur(clean, BLUR_SIGMA)
    plain = enhancement.deblur(model, blurred, BLUR_SIGMA, consistent=False)
    both = enhancement.deblur(model, blurred, BLUR_SIGMA)
    panels_figure([(clean, "your digit"), (blurred, f"blurred\nerror {mse(blurred, clean):.4f}"),
                   (plain, f"MAP fit\nerror {mse(plain, clean):.4f}"),
                   (both, f"+ consistency\nerror {mse(both, clean):.4f}")],
                  out / "enhance_deblur.png", f"Deblurring (Gaussian blur, sigma "
                  f"{BLUR_SIGMA:g} px) with the VAE as prior; error: mean squared, per pixel")
    low = enhancement.downscale(clean, 2)
    bilinear = enhancement.upscale_bilinear(low)
    plain = enhancement.super_resolve(model, low, consistent=False)
    both = enhancement.super_resolve(model, low)
    panels_figure([(clean, "your digit"), (low, "14x14"),
                   (bilinear, f"bilinear\nerror {mse(bilinear, clean):.4f}"),
                   (plain, f"MAP fit\nerror {mse(plain, clean):.4f}"),
                   (both, f"+ consistency\nerror {mse(both, clean):.4f}")],
                  out / "enhance_superres.png",
                  "Super-resolution 14x14 -> 28x28 with the VAE as prior")


def style_figure(cvae, digit, label, out):
    redrawn = cvae.transfer_style(digit, [label]).numpy()
    panels_figure([(digit, f"your {label}")] + [(r, f"as a {d}")
                                                for d, r in enumerate(redrawn)],
                  out / "style_transfer.png", "Style transfer with the conditional VAE: "
                  "your digit's style code, decoded as every digit")


# ------------------------------------------------------------------ scores on test digits
def restoration_errors(model, x, observed, degrade, back_project, start, steps):
    """Squared errors to the clean digits x of the MAP restoration from `observed`,
    and of the same after the consistency step (one fit serves both)."""
    fitted = enhancement.restore(model, observed, degrade, start, steps)
    return {"map": mse(fitted, x),
            "map_consistent": mse(enhancement.consistent(fitted, observed, degrade,
                                                         back_project), x)}


def scores(model, x, direction, steps=100, k=20):
    """Squared error per pixel against the clean digits (and plausibility with k
    importance samples, ink) of each edit on test digits x (N, 1, 28, 28): the
    numbers of the README."""
    clean = minidl.tensor(x)
    blurred = enhancement.gaussian_blur(clean, BLUR_SIGMA)
    low = enhancement.downscale(clean, 2)
    warped = deformation.warp_affine(x, **AFFINE)
    nats = lambda images: float(deformation.plausibility(model, images, k).mean())  # noqa: E731
    with minidl.no_grad():
        upscaled = enhancement.upscale_bilinear(low).clamp(0.0, 1.0)
    return {
        "deblur": {"blurred": mse(blurred, x), **restoration_errors(
            model, x, blurred, lambda i: enhancement.gaussian_blur(i, BLUR_SIGMA),
            lambda r: r, blurred, steps)},
        "super_resolution": {"bilinear": mse(enhancement.upscale_bilinear(low), x),
                             **restoration_errors(
                                 model, x, low, lambda i: enhancement.downscale(i, 2),
                                 enhancement.upscale_bilinear, upscaled, steps)},
        "deformation_plausibility_nats": {
            "test_digits": nats(x), "warped": nats(warped),
            "encode": nats(deformation.project(model, warped, "encode")),
            "map": nats(deformation.project(model, warped, "map"))},
        "thickness_ink": {
            "original": float(tone.ink(x).mean()),
            "erode": float(tone.ink(tone.erode(x)).mean()),
            "dilate": float(tone.ink(tone.dilate(x)).mean()),
            "vae_as_drawn": float(tone.ink(model.reconstruct(x)).mean()),
            "vae_thinner": float(tone.ink(tone.change_thickness(model, x, direction,
                                                                -THICKNESS)).mean()),
            "vae_thicker": float(tone.ink(tone.change_thickness(model, x, direction,
                                                                THICKNESS)).mean())},
    }


__all__ = ["panels_figure", "deformation_figures", "tone_figures",
           "enhancement_figures", "style_figure", "scores"]
