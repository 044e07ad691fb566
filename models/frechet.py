"""Measuring a generator: the Frechet distance on MNIST and class coverage.

The Frechet distance (FID's idea, Heusel et al. 2017) compares two sets of images
through a classifier's features. Fit a Gaussian to each set's feature vectors, with
means m1, m2 and covariances S1, S2; the Frechet (2-Wasserstein) distance between
the two Gaussians is

    d^2 = ||m1 - m2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).

0 means the same statistics; it grows as the sets drift apart. Two samples of real
digits (train vs test) do not give exactly 0: that is the floor to compare against.

The trace of the matrix square root needs no general sqrtm: with R = S1^(1/2) (from
S1's eigen-decomposition), R S2 R is symmetric positive semi-definite and has the
same eigenvalues as S1 S2 (similar matrices: S1 S2 = R (R S2 R) R^-1), so
tr((S1 S2)^(1/2)) = sum of sqrt(eigenvalues of R S2 R). numpy's eigh does the rest.

Class coverage: the classifier's predicted-label histogram of generated images and
its entropy. A generator that makes every digit equally often has entropy log(10);
one that collapsed onto a few digits ("mode collapse") has much less. And how many
images are recognisable digits at all: the fraction the classifier assigns to one
class with probability >= 0.9 (real test digits: about 99%).

The metric functions work on plain numpy arrays, so they score any generator's
samples. The features come from the penultimate (64-unit) layer of the SeedCNN that
examples/train_cnn.py trains and saves (load it with load_classifier).

    python -m models.frechet samples.npy [--classifier runs/cnn/model.npz] [--data-dir D]
                             [--floor-per-class]
scores an (N, 1, 28, 28) array in [0, 1] (e.g. from train_gan.py --save-samples);
--floor-per-class also prints the real-data floor for each digit.
"""
from __future__ import annotations

import argparse
import pathlib

import numpy as np

import minidl
from minidl.data import MNIST

from .cnn import SeedCNN

DEFAULT_CLASSIFIER = "runs/cnn/model.npz"


# ------------------------------------------------------------------ the metric (numpy)
def feature_statistics(features):
    """Mean (D,) and covariance (D, D) of feature vectors (N, D), in float64."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"feature_statistics: expected features of shape (N, D) with "
                         f"N >= 2, got {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def sqrtm_psd(s):
    """The symmetric square root of a symmetric positive semi-definite matrix:
    S = V diag(w) V^T  ->  S^(1/2) = V diag(sqrt(w)) V^T (tiny negative w from
    rounding are clipped to 0)."""
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """d^2 = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)) between the
    Gaussians N(mu1, S1) and N(mu2, S2)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != mu1.shape * 2:
        raise ValueError(f"frechet_distance: means {mu1.shape}, {mu2.shape} and "
                         f"covariances {s1.shape}, {s2.shape} must be (D,) and (D, D)")
    root1 = sqrtm_psd(s1)
    middle = root1 @ s2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)  # symmetric up to rounding
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0, None)).sum()
    d2 = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    return float(max(d2, 0.0))  # rounding can leave -1e-12 for identical sets


def frechet_distance_features(features1, features2):
    """The Frechet distance between Gaussians fitted to two sets of feature vectors."""
    return frechet_distance(*feature_statistics(features1),
                            *feature_statistics(features2))


def class_coverage(labels, num_classes=10):
    """{"counts": per-class counts, "fractions": counts / N, "entropy": of the
    fractions in nats, "max_entropy": log(num_classes), "classes_seen": how many
    classes occur at all}."""
    labels = np.asarray(labels).astype(np.int64).ravel()
    if labels.size == 0 or labels.min() < 0 or labels.max() >= num_classes:
        got = f" in [{labels.min()}, {labels.max()}]" if labels.size else ""
        raise ValueError(f"class_coverage: expected labels in [0, {num_classes}), got "
                         f"{labels.size} labels{got}")
    counts = np.bincount(labels, minlength=num_classes)
    p = counts / counts.sum()
    nonzero = p[p > 0]
    return {"counts": counts.tolist(), "fractions": p.tolist(),
            "entropy": float(-(nonzero * np.log(nonzero)).sum()),
            "max_entropy": float(np.log(num_classes)),
            "classes_seen": int((counts > 0).sum())}


# ------------------------------------------------------------------ the feature extractor
def confident_fraction(probabilities, threshold=0.9) -> float:
    """The fraction of images whose most likely class has probability >= threshold,
    given the classifier's class probabilities (N, num_classes)."""
    p = np.asarray(probabilities)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"confident_fraction: expected probabilities of shape (N, "
                         f"num_classes) with N >= 1, got {p.shape}")
    return float((p.max(1) >= threshold).mean())


def load_classifier(path=DEFAULT_CLASSIFIER) -> SeedCNN:
    """The SeedCNN saved by examples/train_cnn.py (its model.npz), in eval mode."""
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no classifier checkpoint at {path}. The Frechet distance uses the trained "
            f"SeedCNN's features; make one with\n    python examples/train_cnn.py "
            f"--out {path.parent}\n(add --data-dir DIR for full MNIST), or pass "
            f"--classifier PATH to an existing model.npz")
    state = minidl.load(path)
    model = SeedCNN()
    model.load_state_dict(state["model"] if "model" in state else state)
    return model.eval()


def try_load_classifier(path=DEFAULT_CLASSIFIER, purpose="the scores"):
    """load_classifier(path), or None when it does not exist (saying that `purpose`
    is skipped, and how to make the classifier)."""
    try:
        return load_classifier(path)
    except FileNotFoundError as error:
        print(f"{purpose} skipped: {error}")
        return None


@minidl.no_grad()
def classifier_features(model: SeedCNN, images, batch_size=500):
    """(features (N, 64) from the penultimate layer, class probabilities (N, 10)) for
    images (N, 1, 28, 28) or (N, 28, 28) in [0, 1], as numpy arrays."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[:, None]
    if images.shape[1:] != (1, 28, 28):
        raise ValueError(f"classifier_features: expected images of shape (N, 1, 28, 28) "
                         f"in [0, 1], got {images.shape}")
    model.eval()
    head, last = model.classifier[:-1], model.classifier[-1]  # up to the 64-unit ReLU
    features, probabilities = [], []
    for start in range(0, len(images), batch_size):
        h = head(model.features(minidl.tensor(images[start:start + batch_size])))
        features.append(h.numpy())
        probabilities.append(minidl.softmax(last(h), dim=1).numpy())
    return np.concatenate(features), np.concatenate(probabilities)


def mnist_images(data_dir=None, train=False, n=10_000, seed=0, labels=False):
    """n MNIST images (N, 1, 28, 28) in [0, 1]: a random choice (fixed by seed) from
    the training or the test set (all of it if it has no more than n); with
    labels=True, (images, labels)."""
    data = MNIST(data_dir, train=train)
    index = np.arange(len(data))
    if len(data) > n:
        index = np.sort(np.random.default_rng(seed).choice(len(data), n, replace=False))
    images, digits = data.get_batch(index)
    return (images, digits) if labels else images


def floor_per_class(model, data_dir=None, n=10_000, num_classes=10):
    """The real-data floor of the Frechet distance for each digit: n training vs n
    test images (about n / 10 of each digit), digit by digit -- what the distance
    per class of perfect class-conditional samples would be."""
    (train, train_y), (test, test_y) = (mnist_images(data_dir, t, n, labels=True)
                                        for t in (True, False))
    train, _ = classifier_features(model, train)
    test, _ = classifier_features(model, test)
    return [frechet_distance_features(train[train_y == c], test[test_y == c])
            for c in range(num_classes)]


def score_samples(samples, model, reference_features):
    """{"frechet_distance": to the reference features, "coverage": class_coverage,
    "confident": confident_fraction} for generated images (N, 1, 28, 28) in [0, 1]."""
    features, probabilities = classifier_features(model, samples)
    return {"frechet_distance": frechet_distance_features(features, reference_features),
            "coverage": class_coverage(probabilities.argmax(1)),
            "confident": confident_fraction(probabilities)}


def conditional_scores(samples, requested, model, reference_features, reference_labels,
                       num_classes=10):
    """How well class-conditional samples (N, 1, 28, 28) in [0, 1] match the classes
    they were asked for (requested (N,) ints), by the SeedCNN `model`:
      "accuracy"            fraction classified as the requested digit
      "per_class_accuracy"  the same for each digit
      "frechet_per_class"   the Frechet distance between the samples of digit c and
                            the reference images of digit c (e.g. the test set's;
                            given by their classifier_features and labels)
      "frechet"             between all samples and all reference images."""
    requested = np.asarray(requested).astype(np.int64)
    if requested.shape != (len(samples),):
        raise ValueError(f"conditional_scores: need one requested class per sample "
                         f"({len(samples)}), got shape {requested.shape}")
    features, probabilities = classifier_features(model, samples)
    reference = reference_features
    reference_labels = np.asarray(reference_labels)
    hit = probabilities.argmax(1) == requested
    per_class, frechet = [], []
    for c in range(num_classes):
        mine, theirs = requested == c, reference_labels == c
        per_class.append(float(hit[mine].mean()) if mine.any() else float("nan"))
        frechet.append(frechet_distance_features(features[mine], reference[theirs])
                       if mine.sum() > 1 and theirs.sum() > 1 else float("nan"))
    return {"accuracy": float(hit.mean()), "per_class_accuracy": per_class,
            "frechet_per_class": frechet,
            "frechet": frechet_distance_features(features, reference)}


def _positive_count(text):
    """--n: at least 2 images (a covariance needs two)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be an integer >= 2, got {text!r}")
    return value


def _existing(kind):
    """An argparse type: a path that exists and is a file ("file") or folder ("dir")."""
    def check(text):
        path = pathlib.Path(text).expanduser()
        if not path.exists():
            raise argparse.ArgumentTypeError(f"{text} does not exist")
        if path.is_dir() != (kind == "dir"):
            raise argparse.ArgumentTypeError(f"{text} is not a {kind}")
        return path
    check.__name__ = f"existing {kind}"
    return check


def load_samples(path):
    """The generated images in the .npy file at path, checked: (N, 1, 28, 28) or
    (N, 28, 28) with N >= 2, finite values in [0, 1]. ValueError says what is wrong."""
    try:
        samples = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not a .npy array file ({error})") from None
    if not isinstance(samples, np.ndarray):  # (an .npz archive)
        raise ValueError(f"{path} is an .npz archive; expected one .npy array")
    if samples.shape[1:] not in ((1, 28, 28), (28, 28)) or len(samples) < 2:
        raise ValueError(f"{path} holds an array of shape {np.shape(samples)}; expected "
                         "images (N, 1, 28, 28) or (N, 28, 28) with N >= 2")
    if samples.dtype.kind not in "fiub" or not (
            np.isfinite(samples).all() and samples.min() >= 0 and samples.max() <= 1):
        raise ValueError(f"{path} must hold finite values in [0, 1] (dtype "
                         f"{samples.dtype})")
    return samples


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m models.frechet",
                                description="Frechet distance and class coverage of "
                                            "generated MNIST digits")
    p.add_argument("samples", nargs="?", type=_existing("file"),
                   help=".npy file of images (N, 1, 28, 28) in [0, 1]")
    p.add_argument("--floor-per-class", action="store_true",
                   help="print the real-data floor digit by digit (train vs test)")
    p.add_argument("--classifier", default=DEFAULT_CLASSIFIER,
                   help="SeedCNN checkpoint written by examples/train_cnn.py")
    p.add_argument("--data-dir", default=None, type=_existing("dir"),
                   help="folder with the MNIST files")
    p.add_argument("--n", type=_positive_count, default=10_000,
                   help="real images per set (at least 2)")
    args = p.parse_args(argv)
    try:
        samples = None if args.samples is None else load_samples(args.samples)
        model = load_classifier(args.classifier)
    except (FileNotFoundError, ValueError) as error:
        p.error(str(error))
    if args.floor_per_class:
        floors = floor_per_class(model, args.data_dir, args.n)
        print("Frechet distance floor per digit (train vs test): " +
              " ".join(f"{f:.2f}" for f in floors))
    if samples is None:
        return None
    test, _ = classifier_features(model, mnist_images(args.data_dir, False, args.n))
    train, _ = classifier_features(model, mnist_images(args.data_dir, True, args.n))
    result = score_samples(samples, model, test)
    floor = frechet_distance_features(train, test)
    cov = result["coverage"]
    print(f"Frechet distance, {len(samples)} samples vs {len(test)} test images: "
          f"{result['frechet_distance']:.3f}  (real floor, train vs test: {floor:.3f})")
    print(f"class coverage: {cov['classes_seen']}/10 digits, entropy "
          f"{cov['entropy']:.3f} of {cov['max_entropy']:.3f}; counts {cov['counts']}; "
          f"{result['confident']:.1%} classified with probability >= 0.9")
    return result, floor


if __name__ == "__main__":
    main()
