"""Edit digits with a trained VAE: interpolate, denoise, inpaint, latent arithmetic,
deform, adjust tone and thickness, deblur, upscale, and (with a conditional VAE)
redraw a digit as every other digit in its own style.

    python examples/edit_images.py [--checkpoint runs/vae/model.npz] [--out DIR]
                                   [--data-dir DIR] [--image my_digit.png] [--seed 0]
                                   [--cvae-checkpoint runs/cvae/model.npz]
                                   [--label L] [--score 500]

Loads a checkpoint written by train_vae.py and writes one figure per operation into
--out (default: beside the checkpoint, in edits/):
  interpolation.png   walks in latent space between pairs of test digits
                      (straight line, and spherical: along the great circle)
  denoising.png       noisy (Gaussian, sigma 0.3, clipped to [0, 1]) / restored / clean
  inpainting.png      bottom half missing / filled by the VAE / clean
  arithmetic.png      latent arithmetic: + strength * (thick - thin) and
                      + strength * (mean 7 - mean 1)
  manifold.png        the decoded latent plane (only for latent size 2)
  user_image.png      with --image: your picture as loaded, as a 28x28 digit, its
                      reconstruction, and thinner / thicker versions of it
  user_image_edited.png   with --image: the thicker version alone, 28x28 grayscale
and, on your digit (--image) or else on a test digit, one PNG per edit (see
edit_figures.py): deform_affine, deform_elastic, tone_brightness, tone_contrast,
tone_gamma, tone_thickness, enhance_deblur, enhance_superres, and style_transfer
(with --cvae-checkpoint: a conditional VAE from train_vae.py --model cvae; the
digit's label is --label, else the test digit's, else the SeedCNN's guess).
--score N measures the edits on N test digits (errors against the clean digits for
denoising, inpainting, deblurring, super-resolution; plausibility of deformed
digits; ink of thickness edits), prints them and writes scores.json.

Your image (PNG, JPEG, ...; grayscale, RGB or with transparency; any size) is read
upright (a phone photo's EXIF orientation is applied) and converted the way MNIST
itself was made (see to_mnist): to grayscale (transparent parts become background,
so a digit drawn only in the alpha channel counts as ink); inverted if the digit is
dark on a light background (judged by the median of the border pixels); background
set to 0 and the brightest ink to 1; cropped to the ink; scaled so its longer side
is 20 pixels (Lanczos filter, aspect ratio kept); and pasted into a 28x28 black
square with its centre of mass in the middle.
"""
import json
import pathlib

import numpy as np
from matplotlib.figure import Figure
from PIL import Image, ImageOps

import minidl
from minidl.data import MNIST
from minidl.tools.fileio import atomic_path
from minidl.tools.plot import save_figure, make_grid

from models.vae import load_vae
from models import frechet, tone
from flags import (add_data_dir, add_out, add_seed, check_out_dir,
                   existing_file, fail, nonnegative_int, parser)
import edit_figures

NOISE_SIGMA = 0.3


def parse_args(argv=None):
    p = parser(pathlib.Path(__file__).name, __doc__.splitlines()[0])
    p.add_argument("--checkpoint", type=existing_file, default="runs/vae/model.npz",
                   help="model.npz written by train_vae.py")
    add_out(p, None, help="folder for the figures (default: edits/ beside the "
                          "checkpoint)")
    add_data_dir(p)
    p.add_argument("--image", type=existing_file, default=None,
                   help="a picture of a digit to edit")
    add_seed(p, help="seed of the added noise")
    p.add_argument("--cvae-checkpoint", default="runs/cvae/model.npz",
                   help="a conditional VAE (train_vae.py --model cvae) for the style "
                        "transfer (skipped when missing)")
    p.add_argument("--label", type=int, default=None, choices=range(10),
                   help="which digit your --image shows (for the style transfer)")
    p.add_argument("--classifier", default=frechet.DEFAULT_CLASSIFIER,
                   help="SeedCNN that guesses your digit's label when --label is "
                        "not given")
    p.add_argument("--score", type=nonnegative_int, default=500,
                   help="test digits to measure the edits on (0: skip)")
    return p.parse_args(argv)


# ------------------------------------------------------------------ a user's picture
def read_picture(path) -> np.ndarray:
    """A picture file as float32 grayscale in [0, 1], upright (EXIF orientation
    applied). Transparent pixels become background: the picture is laid on white
    if its visible pixels are mostly dark, else on black -- so ink that exists only
    in the alpha channel (uniform colour, varying opacity) shows up as ink."""
    try:
        img = Image.open(path)
        img = ImageOps.exif_transpose(img)
        img.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise ValueError(f"to_mnist: cannot read {path} as an image "
                         f"({type(e).__name__}: {e})") from None
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit or float grayscale
        gray = np.asarray(img, dtype=np.float32)
        return (gray - gray.min()) / max(float(np.ptp(gray)), 1e-6)
    rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255
    gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601
    alpha = rgba[..., 3]
    if alpha.min() == 1:
        return gray
    visible = gray[alpha > 0.5]
    paper = 1.0 if visible.size and np.median(visible) < 0.5 else 0.0
    return alpha * gray + (1 - alpha) * paper


def to_mnist(path) -> np.ndarray:
    """A picture file as an MNIST-style digit: float32 (1, 28, 28) in [0, 1], white
    ink on black. Steps: read upright, grayscale (read_picture) -> invert if the
    border is light -> background to 0 and brightest ink to 1 -> crop to the ink's
    bounding box -> longer side to 20 px (Lanczos), ink rescaled to peak at 1 ->
    centre of mass at the centre of a 28x28 canvas."""
    gray = read_picture(path)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 0.5:     # dark digit on light paper -> light on dark
        gray, border = 1 - gray, 1 - border
    background = np.median(border)
    gray = np.clip((gray - background) / max(gray.max() - background, 1e-6), 0, 1)
    rows, cols = np.nonzero(gray > 0.1)
    if len(rows) == 0:
        raise ValueError(f"to_mnist: {path} looks blank (no ink found)")
    ink = gray[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    h, w = ink.shape
    scale = 20 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray(np.uint8(ink * 255)).resize(
        size, Image.LANCZOS), dtype=np.float32) / 255
    small = small / max(small.max(), 1e-6)  # thin strokes fade when shrunk: ink to 1
    canvas = np.zeros((28, 28), np.float32)
    cy, cx = _centre_of_mass(small)
    top = int(np.clip(round(14 - cy), 0, 28 - small.shape[0]))
    left = int(np.clip(round(14 - cx), 0, 28 - small.shape[1]))
    canvas[top:top + small.shape[0], left:left + small.shape[1]] = small
    return np.clip(canvas, 0, 1)[None]


def _centre_of_mass(img):
    ys, xs = np.indices(img.shape)
    total = img.sum() + 1e-12
    return (ys * img).sum() / total, (xs * img).sum() / total


# ------------------------------------------------------------------ figures
def tile_figure(rows, path, title, row_labels=None, col_labels=None, scale=0.6):
    """Rows of 28x28 images tiled into one picture (grey lines between them) with
    optional labels left of the rows and above the columns; written to `path`.
    One imshow for the whole grid, so even hundreds of digits draw quickly."""
    rows = [np.asarray(r, dtype=np.float32).reshape(-1, 28, 28) for r in rows]
    ncol, gap, cell = max(len(r) for r in rows), 2, 30
    blank = np.full((28, 28), 0.4, np.float32)  # fills out rows shorter than ncol
    canvas = make_grid(np.stack([row[j] if j < len(row) else blank
                                 for row in rows for j in range(ncol)]), ncol,
                       padding=gap, pad_value=0.4)
    label_width = 1.4 if row_labels else 0.1
    fig = Figure(figsize=(ncol * cell / 28 * scale + label_width,
                          len(rows) * cell / 28 * scale + 0.7))
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    centres = lambda n: [gap + k * cell + 13.5 for k in range(n)]  # noqa: E731
    ax.set_yticks(centres(len(rows)) if row_labels else [])
    if row_labels:
        ax.set_yticklabels(row_labels, fontsize=8)
    ax.set_xticks(centres(ncol) if col_labels else [])
    if col_labels:
        ax.set_xticklabels(col_labels, fontsize=8)
        ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=10, pad=18 if col_labels else 6)
    return save_figure(fig, path)


def manifold_figure(model, path, n=15):
    """The decoded latent plane of a 2-D model, z in [-2, 2]^2 (see VAE.manifold)."""
    ticks = [f"{v:+.1f}" for v in np.linspace(-2, 2, n)]
    tile_figure(model.manifold(n).numpy().reshape(n, n, 28, 28), path,
                "The decoded latent plane: z1 across (top), z2 down (left)",
                ticks[::-1], ticks)


def show_masked(images, known):
    """Missing pixels drawn mid-grey so the hole is visible."""
    return np.where(known > 0, images, 0.5)


def interpolation_figure(model, x, labels, out,
                         pairs=((7, 2), (1, 0), (4, 9), (3, 8))):
    """For each pair of classes (a, b): from the first test a to the first test b."""
    rows, names = [], []
    for a, b in pairs:
        ia, ib = (int(np.flatnonzero(labels == c)[0]) for c in (a, b))
        for spherical in (False, True):
            rows.append(model.interpolate(x[ia], x[ib], steps=10,
                                          spherical=spherical).numpy())
            names.append(f"{a} to {b}, " + ("spherical" if spherical else "linear"))
    tile_figure(rows, out / "interpolation.png", "Interpolation in latent space "
                "between two test digits (ends: their reconstructions)", names)


def denoising_figure(model, x, noisy, out, n=10):
    restored = model.denoise(noisy[:n]).numpy()
    mse = lambda a: float(((a - x[:n]) ** 2).mean())  # noqa: E731
    tile_figure([noisy[:n], restored, x[:n]], out / "denoising.png",
                f"Denoising: Gaussian noise sigma {NOISE_SIGMA}, clipped to [0, 1]",
                [f"noisy\nMSE {mse(noisy[:n]):.3f}",
                 f"restored\nMSE {mse(restored):.3f}", "clean"])


def inpainting_figure(model, x, out, n=10):
    known = np.ones((1, 28, 28), np.float32)
    known[:, 14:] = 0  # the bottom half is missing
    filled = model.inpaint(x[:n], known).numpy()
    hole = lambda a: float(((a - x[:n]) ** 2)[:, known == 0].mean())  # noqa: E731
    tile_figure([show_masked(x[:n], known), filled, x[:n]], out / "inpainting.png",
                "Inpainting: the code is fitted to the known top half",
                ["bottom half\nmissing (grey)",
                 f"filled by the VAE\nhole MSE {hole(filled):.3f}\n"
                 f"(mean image: {hole(x.mean(0)):.3f})", "clean"])


def arithmetic_figure(model, x, labels, out):
    thick = tone.thickness_direction(model, x, labels)
    seven = model.attribute_vector(x[labels == 7], x[labels == 1])
    strengths = [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5]
    rows, names = [], []
    for i in [int(np.flatnonzero(labels == c)[0]) for c in (2, 3, 5)]:
        rows.append([model.edit(x[i], thick, s).numpy() for s in strengths])
        names.append(f"a {labels[i]}\n+ s(thick - thin)")
    for i in np.flatnonzero(labels == 1)[:2]:
        rows.append([model.edit(x[i], seven, s).numpy() for s in strengths])
        names.append("a 1\n+ s(mean 7 - mean 1)")
    tile_figure(rows, out / "arithmetic.png",
                "Latent arithmetic: decode(z + s * vector); s = 0 is the reconstruction",
                names, [f"s = {s:g}" for s in strengths])


def user_image_figure(model, digit, thick, path, out):
    thinner, recon, thicker = (model.edit(digit, thick, s).numpy() for s in (-1, 0, 1))
    edit_figures.panels_figure(
        [(read_picture(path), "your image"), (digit, "as 28x28"),
         (recon, "reconstruction"), (thinner, "thinner"), (thicker, "thicker")],
        out / "user_image.png", "Your digit, as the VAE sees and redraws it")
    with atomic_path(out / "user_image_edited.png") as tmp:  # the result alone
        Image.fromarray(np.uint8(np.round(thicker[0] * 255))).save(tmp, format="PNG")
    return thicker


def main(argv=None):
    args = parse_args(argv)
    checkpoint = pathlib.Path(args.checkpoint)
    out = check_out_dir(args, args.out or checkpoint.parent / "edits")
    try:
        if args.image:
            to_mnist(args.image)   # a picture that cannot be used stops us now
        model = load_vae(checkpoint)
        test = MNIST(args.data_dir, train=False, limit=2000)
    except (OSError, ValueError) as error:  # incl. CheckpointError, damaged data
        fail(args, str(error))
    print(f"loaded {type(model).__name__} {model.config} from {checkpoint}")
    x, labels = test.get_batch(np.arange(len(test)))
    rng = np.random.default_rng(args.seed)
    noisy = np.clip(x + NOISE_SIGMA * rng.standard_normal(x.shape), 0, 1)
    noisy = noisy.astype(np.float32)

    interpolation_figure(model, x, labels, out)
    denoising_figure(model, x, noisy, out)
    inpainting_figure(model, x, out)
    arithmetic_figure(model, x, labels, out)
    written = ["interpolation", "denoising", "inpainting", "arithmetic"]
    if model.latent_dim == 2:
        manifold_figure(model, out / "manifold.png")
        written.append("manifold")
    thick = tone.thickness_direction(model, x, labels)
    digit, label = the_digit(args, x, labels)
    if args.image:
        user_image_figure(model, digit, thick, args.image, out)
        written += ["user_image", "user_image_edited"]
    written += edit_pngs(model, digit, label, thick, args, out)
    print(f"wrote {', '.join(n + '.png' for n in written)} to {out}/")
    if args.score > 0:
        score_edits(model, x[:args.score], noisy[:args.score], thick, out)
    return out


def the_digit(args, x, labels):
    """The digit to edit, (1, 28, 28), and its label (None if unknown): the user's
    --image (label: --label, else the SeedCNN's guess if a classifier exists), or
    the first test 3."""
    if not args.image:
        i = int(np.flatnonzero(labels == 3)[0])
        return x[i], int(labels[i])
    digit = to_mnist(args.image)
    if args.label is not None:
        return digit, args.label
    classifier = frechet.try_load_classifier(args.classifier, "guessing your digit")
    if classifier is None:
        return digit, None
    _, p = frechet.classifier_features(classifier, digit[None])
    print(f"the SeedCNN reads your digit as a {p.argmax()} (p = {p.max():.2f}); "
          f"pass --label to say otherwise")
    return digit, int(p.argmax())


def edit_pngs(model, digit, label, thick, args, out):
    """One PNG per edit of models/ on the digit; returns their names."""
    edit_figures.deformation_figures(model, digit, out)
    edit_figures.tone_figures(model, digit, thick, out)
    edit_figures.enhancement_figures(model, digit, out)
    names = ["deform_affine", "deform_elastic", "tone_brightness", "tone_contrast",
             "tone_gamma", "tone_thickness", "enhance_deblur", "enhance_superres"]
    cvae_path = pathlib.Path(args.cvae_checkpoint)
    if cvae_path.exists() and label is not None:
        edit_figures.style_figure(load_vae(cvae_path), digit, label, out)
        names.append("style_transfer")
    else:
        print(f"style transfer skipped: needs {cvae_path} (train_vae.py --model cvae) "
              "and the digit's label (--label)")
    return names


def score_edits(model, x, noisy, thick, out):
    """The edits measured on test digits x: print them and write scores.json."""
    known = np.ones((1, 28, 28), np.float32)
    known[:, 14:] = 0
    hole = known == 0
    results = {"images": len(x),
               "denoise": {"noisy": edit_figures.mse(noisy, x),
                           "reconstruction": edit_figures.mse(model.reconstruct(noisy), x),
                           "denoise": edit_figures.mse(model.denoise(noisy), x)},
               "inpaint_missing_pixels": {
                   "mean_image": float(((x.mean(0) - x) ** 2)[:, hole].mean()),
                   "optimize": float(((model.inpaint(x, known).numpy() - x) ** 2)
                                     [:, hole].mean())},
               **edit_figures.scores(model, x, thick)}
    for name, values in results.items():
        if isinstance(values, dict):
            print(f"{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in values.items()))
    with atomic_path(out / "scores.json") as tmp:
        tmp.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    minidl.manual_seed(0)
    main()
