"""End-to-end: the example scripts train for real on a few hundred images, learn, save
what they promise, and resume from their checkpoints."""
import json
import pathlib
import sys

import pytest

import minidl
from minidl.data import MNIST

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

import train_mlp  # noqa: E402
import train_cnn  # noqa: E402
import train_vae  # noqa: E402
import training  # noqa: E402


def test_mlp_example_learns_and_saves(tmp_path):
    history = train_mlp.main(["--epochs", "3", "--limit", "600", "--batch-size", "32",
                              "--out", str(tmp_path), "--no-progress", "--seed", "1"])
    assert history["train_loss"][-1] < history["train_loss"][0] * 0.7
    assert history["test_acc"][-1] > 0.6  # chance is 0.1
    for name in ("model.npz", "curves.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] == history["test_acc"][-1]


def test_mlp_example_is_deterministic_for_a_seed(tmp_path):
    args = ["--epochs", "1", "--limit", "200", "--no-progress", "--seed", "3"]
    a = train_mlp.main(args + ["--out", str(tmp_path / "a")])
    b = train_mlp.main(args + ["--out", str(tmp_path / "b")])
    assert a["train_loss"] == b["train_loss"] and a["test_acc"] == b["test_acc"]


def test_mlp_example_resume_continues_where_it_stopped(tmp_path):
    base = ["--limit", "200", "--no-progress", "--seed", "2"]
    straight = train_mlp.main(base + ["--epochs", "2", "--out", str(tmp_path / "s")])
    train_mlp.main(base + ["--epochs", "1", "--out", str(tmp_path / "r")])
    resumed = train_mlp.main(base + ["--epochs", "2", "--out", str(tmp_path / "r"),
                                     "--resume"])
    assert resumed["train_loss"] == pytest.approx(straight["train_loss"], rel=1e-6)


def test_cnn_example_learns_and_writes_its_figures(tmp_path):
    acc = train_cnn.main(["--epochs", "2", "--limit", "500", "--out", str(tmp_path),
                          "--no-progress", "--seed", "0"])
    assert acc > 0.5  # a few hundred images, two epochs: well above chance (0.1)
    for name in ("model.npz", "curves.png", "confusion.png", "filters.png",
                 "feature_maps.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["history"]["train_loss"][-1] < metrics["history"]["train_loss"][0]


def test_cnn_example_resumes_mid_schedule(tmp_path, monkeypatch):
    """Stopped after epoch 1 of 2 and resumed, the cosine-scheduled run ends exactly
    where the uninterrupted one does (the scheduler is in the checkpoint)."""
    base = ["--epochs", "2", "--limit", "100", "--no-progress", "--seed", "4"]
    train_cnn.main(base + ["--out", str(tmp_path / "s")])
    straight = json.loads((tmp_path / "s" / "metrics.json").read_text())["history"]

    real_epoch, calls = training.train_epoch, []

    def stop_in_epoch_2(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(training, "train_epoch", stop_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train_cnn.main(base + ["--out", str(tmp_path / "r")])
    monkeypatch.setattr(training, "train_epoch", real_epoch)
    train_cnn.main(base + ["--out", str(tmp_path / "r"), "--resume"])
    resumed = json.loads((tmp_path / "r" / "metrics.json").read_text())["history"]
    assert resumed["train_loss"] == pytest.approx(straight["train_loss"], rel=1e-6)
    assert resumed["test_acc"] == straight["test_acc"]


def test_cnn_example_constant_schedule_is_the_seed_recipe(tmp_path):
    base = ["--epochs", "1", "--limit", "100", "--no-progress", "--seed", "4"]
    train_cnn.main(base + ["--out", str(tmp_path / "c"), "--schedule", "constant"])
    train_cnn.main(base + ["--out", str(tmp_path / "d")])
    constant = minidl.load(tmp_path / "c" / "model.npz")
    cosine = minidl.load(tmp_path / "d" / "model.npz")
    assert constant["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-3)
    assert "scheduler" not in constant
    assert cosine["optimizer"]["param_groups"][0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_cnn_example_with_augmentation_reports_the_moved_test_set(tmp_path):
    base = ["--epochs", "1", "--limit", "200", "--no-progress", "--seed", "5"]
    train_cnn.main(base + ["--augment", "--out", str(tmp_path / "a")])
    train_cnn.main(base + ["--out", str(tmp_path / "p")])
    augmented, plain = (json.loads((tmp_path / d / "metrics.json").read_text())
                        for d in ("a", "p"))
    assert 0 <= augmented["moved_test_accuracy"] <= 1
    assert augmented["history"]["train_loss"] != plain["history"]["train_loss"]
    assert (tmp_path / "a" / "moved_test.png").stat().st_size > 1000
    # the moved test set is the same for every run
    images = [train_cnn.moved_test_set(MNIST(train=False, limit=50))
              .get_batch([0, 1])[0] for _ in range(2)]
    assert (images[0] == images[1]).all()


# ============================================================== command lines: faults
import importlib  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402

import numpy as np  # noqa: E402

from minidl.data.idx import write_idx  # noqa: E402

mnist_module = importlib.import_module("minidl.data.mnist")
SCRIPTS = ("train_cnn", "train_mlp", "train_vae", "train_gan", "edit_images",
           "plot_gradients", "draw_graphs", "tour")
TRAINERS = ("train_cnn", "train_mlp", "train_vae", "train_gan")
QUICK = {"train_cnn": [], "train_mlp": [],
         "train_vae": ["--model", "mlp", "--iw-samples", "0"],
         "train_gan": ["--model", "mlp", "--fd-samples", "0", "--batch-size", "16"]}


def script(name):
    return importlib.import_module(name)


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No cache, no MINIDL_DATA, no network: data comes from where the test says."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("MINIDL_DATA", raising=False)
    monkeypatch.setattr(mnist_module, "MIRRORS", ("http://127.0.0.1:9/",))
    monkeypatch.setattr(mnist_module, "_using_subset", False)


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a script gets as far as loading data."""
    def refuse(*args, **kwargs):
        raise AssertionError("the script started working before refusing")
    monkeypatch.setattr(training, "MNIST", refuse)
    monkeypatch.setattr(script("edit_images"), "load_vae", refuse)


BAD_FLAGS = [  # (scripts, flags, what the one-line error must say)
    (TRAINERS, ["--epochs", "0"], "--epochs: must be a positive integer, got '0'"),
    (TRAINERS, ["--epochs", "-2"], "--epochs: must be a positive integer"),
    (TRAINERS, ["--epochs", "1.5"], "--epochs: must be a positive integer"),
    (TRAINERS, ["--epochs", "lots"], "--epochs: must be a positive integer"),
    (TRAINERS + ("plot_gradients",), ["--batch-size", "0"], "--batch-size: must be"),
    (TRAINERS + ("plot_gradients",), ["--limit", "0"], "--limit: must be a positive"),
    (TRAINERS + ("plot_gradients",), ["--limit", "-5"], "--limit: must be a positive"),
    (TRAINERS + ("plot_gradients",), ["--lr", "0"], "--lr: must be a positive finite"),
    (TRAINERS + ("plot_gradients",), ["--lr=-1e-3"], "--lr: must be a positive"),
    (TRAINERS + ("plot_gradients",), ["--lr", "nan"], "--lr: must be a positive finite"),
    (TRAINERS + ("plot_gradients",), ["--lr", "inf"], "--lr: must be a positive finite"),
    (TRAINERS + ("plot_gradients", "edit_images", "draw_graphs"), ["--seed", "-1"],
     "--seed: must be a non-negative integer"),
    (TRAINERS + ("plot_gradients", "edit_images"), ["--data-dir", "/no/such/dir"],
     "--data-dir: /no/such/dir does not exist"),
    (TRAINERS, ["--resume", "--overwrite"], "not allowed with argument"),
    (("train_vae",), ["--latent-dim", "0"], "--latent-dim: must be a positive integer"),
    (("train_vae",), ["--warmup", "-1"], "--warmup: must be a non-negative finite"),
    (("train_vae",), ["--warmup", "nan"], "--warmup: must be a non-negative finite"),
    (("train_vae",), ["--iw-samples", "-1"], "--iw-samples: must be a non-negative"),
    (("train_vae",), ["--iw-images", "0"], "--iw-images: must be a positive integer"),
    (("train_vae",), ["--model", "rnn"], "invalid choice: 'rnn'"),
    (("train_gan",), ["--z-dim", "0"], "--z-dim: must be a positive integer"),
    (("train_gan",), ["--width", "-3"], "--width: must be a positive integer"),
    (("train_gan",), ["--n-critic", "0"], "--n-critic: must be a positive integer"),
    (("train_gan",), ["--gp-lambda", "inf"], "--gp-lambda: must be a non-negative"),
    (("train_gan",), ["--fd-samples", "1"], "--fd-samples: must be 0 (no metric) or"),
    (("train_gan",), ["--num-samples", "0"], "--num-samples: must be a positive"),
    (("train_gan",), ["--classifier", "/no/model.npz"], "/no/model.npz does not exist"),
    (("train_cnn",), ["--schedule", "linear"], "invalid choice: 'linear'"),
    (("plot_gradients",), ["--steps", "0"], "--steps: must be a positive integer"),
    (("plot_gradients",), ["--epochs", "2"], "unrecognized arguments: --epochs"),
    (("plot_gradients",), ["--resume"], "unrecognized arguments: --resume"),
    (("edit_images",), ["--checkpoint", "/no/model.npz"], "/no/model.npz does not exist"),
    (("edit_images",), ["--image", "/no/digit.png"], "/no/digit.png does not exist"),
    (("tour",), ["--seed", "1"], "unrecognized arguments: --seed"),
]


@pytest.mark.parametrize("name, flags, message", [
    (name, flags, message) for names, flags, message in BAD_FLAGS for name in names])
def test_every_script_refuses_bad_flags_before_any_work(name, flags, message, tmp_path,
                                                        capsys, no_work):
    with pytest.raises(SystemExit) as info:
        script(name).main(flags + ["--out", str(tmp_path / "out")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and f"{name}.py: error:" in err
    assert not (tmp_path / "out").exists()


@pytest.fixture
def read_only_dir(tmp_path, monkeypatch):
    """A folder nobody may write: a read-only tmpfs when root (root ignores mode
    bits), mode 555 otherwise; if mounting is impossible, a simulated one."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs",
                       str(folder)], capture_output=True).returncode == 0:
        yield folder
        subprocess.run(["umount", str(folder)], check=False)
        return

    def read_only(*args, **kwargs):  # as a read-only file system answers
        raise OSError(30, "Read-only file system")
    monkeypatch.setattr(importlib.import_module("flags").tempfile, "TemporaryFile",
                        read_only)
    yield folder


@pytest.mark.parametrize("name", SCRIPTS)
def test_out_that_is_a_file_or_not_writable_is_refused_first(name, tmp_path, no_work,
                                                            read_only_dir):
    (tmp_path / "file").write_text("not a folder")
    extra = ["--checkpoint", str(tmp_path / "file")] if name == "edit_images" else []
    with pytest.raises(SystemExit, match=f"{name}.py: error: --out .*file is a file"):
        script(name).main(extra + ["--out", str(tmp_path / "file")])
    with pytest.raises(SystemExit, match="file/sub: .*file is a file, not a folder"):
        script(name).main(extra + ["--out", str(tmp_path / "file" / "sub")])
    with pytest.raises(SystemExit, match="is not a writable folder .*(Read-only file "
                                         "system|Permission denied)"):
        script(name).main(extra + ["--out", str(read_only_dir / "run")])


@pytest.mark.parametrize("name", TRAINERS)
def test_a_run_in_out_is_never_overwritten_without_asking(name, tmp_path, no_work):
    out = tmp_path / "run"
    minidl.save({"epoch": 3}, out / "model.npz")
    before = (out / "model.npz").read_bytes()
    with pytest.raises(SystemExit) as info:
        script(name).main(QUICK[name] + ["--out", str(out), "--epochs", "1"])
    message = str(info.value)
    assert str(out / "model.npz") in message and "--resume" in message and \
        "--overwrite" in message
    with pytest.raises(SystemExit, match="no checkpoint .* to continue"):
        script(name).main(QUICK[name] + ["--out", str(tmp_path / "empty"), "--resume"])
    with pytest.raises(SystemExit, match="does not record the flags of its run"):
        script(name).main(QUICK[name] + ["--out", str(out), "--resume"])
    (out / "model.npz").chmod(0o444)
    with pytest.raises(SystemExit, match="cannot write model.npz.*write-protected"):
        script(name).main(QUICK[name] + ["--out", str(out), "--overwrite"])
    assert (out / "model.npz").read_bytes() == before


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    """A finished 1-epoch train_mlp run on 64 images."""
    out = tmp_path_factory.mktemp("mlp_run")
    train_mlp.main(["--epochs", "1", "--limit", "64", "--no-progress", "--seed", "5",
                    "--out", str(out)])
    return out


def copy_run(run, tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "model.npz").write_bytes((run / "model.npz").read_bytes())
    return str(tmp_path / "r")


@pytest.mark.parametrize("flags, message", [
    (["--batch-size", "16"], "--batch-size 32; this command asks for --batch-size 16"),
    (["--seed", "6"], "--seed 5; this command asks for --seed 6"),
    (["--limit", "65"], "--limit 64; this command asks for --limit 65"),
])
def test_resume_with_flags_that_disagree_names_the_flag_and_both_values(
        mlp_run, tmp_path, flags, message):
    base = {"--epochs": "2", "--limit": "64", "--seed": "5", "--batch-size": "32"}
    base.update(dict(zip(flags[::2], flags[1::2])))
    argv = [x for pair in base.items() for x in pair]
    with pytest.raises(SystemExit, match=message):
        train_mlp.main(argv + ["--out", copy_run(mlp_run, tmp_path), "--resume",
                               "--no-progress"])


def test_resume_with_another_script_or_fewer_epochs_refuses(mlp_run, tmp_path):
    out = copy_run(mlp_run, tmp_path)
    with pytest.raises(SystemExit, match="written by train_mlp.py, not train_cnn.py"):
        train_cnn.main(["--out", out, "--resume", "--limit", "64", "--seed", "5"])
    with pytest.raises(SystemExit, match="already trained 2 epochs; --epochs 1"):
        pass_through = ["--limit", "64", "--seed", "5", "--no-progress"]
        minidl.save({**minidl.load(pathlib.Path(out) / "model.npz"), "epoch": 2},
                    pathlib.Path(out) / "model.npz")
        train_mlp.main(pass_through + ["--out", out, "--resume", "--epochs", "1"])


def test_resume_applies_and_announces_a_new_learning_rate(mlp_run, tmp_path, capsys):
    out = copy_run(mlp_run, tmp_path)
    train_mlp.main(["--epochs", "2", "--limit", "64", "--seed", "5", "--lr", "5e-4",
                    "--no-progress", "--out", out, "--resume"])
    assert "--lr 0.0005: replaces the run's learning rate 0.001" in capsys.readouterr().out
    state = minidl.load(pathlib.Path(out) / "model.npz")
    assert state["optimizer"]["param_groups"][0]["lr"] == 5e-4
    assert state["run"]["flags"]["lr"] == 5e-4 and state["epoch"] == 2


def test_resume_refuses_other_training_data(mlp_run, tmp_path, monkeypatch):
    real = training.MNIST

    class Shuffled(real):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.data = self.data[::-1].copy()
    monkeypatch.setattr(training, "MNIST", Shuffled)
    with pytest.raises(SystemExit, match="was trained on 64 images .*other images"):
        train_mlp.main(["--epochs", "2", "--limit", "64", "--seed", "5", "--out",
                        copy_run(mlp_run, tmp_path), "--resume", "--no-progress"])


def test_cnn_resume_extends_a_constant_schedule_exactly_and_refuses_cosine(tmp_path):
    """Resuming a 1-epoch run with --epochs 2 ends where the 2-epoch run ends when
    the schedule allows it; a cosine schedule planned over 1 epoch cannot."""
    base = ["--limit", "64", "--no-progress", "--seed", "4", "--batch-size", "16"]
    constant = base + ["--schedule", "constant"]
    straight = train_cnn.main(constant + ["--epochs", "2", "--out", str(tmp_path / "s")])
    train_cnn.main(constant + ["--epochs", "1", "--out", str(tmp_path / "r")])
    resumed = train_cnn.main(constant + ["--epochs", "2", "--out", str(tmp_path / "r"),
                                         "--resume"])
    assert resumed == straight
    a, b = (minidl.load(tmp_path / d / "model.npz")["model"] for d in "sr")
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    train_cnn.main(base + ["--epochs", "1", "--out", str(tmp_path / "c")])
    with pytest.raises(SystemExit, match="cosine learning-rate schedule .* planned over "
                                         "--epochs 1; with --epochs 2"):
        train_cnn.main(base + ["--epochs", "2", "--out", str(tmp_path / "c"), "--resume"])
    with pytest.raises(SystemExit, match="--lr 0.01 differs from the run's 0.001"):
        train_cnn.main(base + ["--epochs", "1", "--out", str(tmp_path / "c"), "--resume",
                               "--lr", "1e-2"])
    with pytest.raises(SystemExit, match="--schedule cosine; this command asks for "
                                         "--schedule constant"):
        train_cnn.main(constant + ["--epochs", "1", "--out", str(tmp_path / "c"),
                                   "--resume"])


def test_vae_resume_refuses_another_model_or_latent_size(tmp_path):
    base = ["--limit", "32", "--no-progress", "--iw-samples", "0", "--epochs", "1"]
    train_vae.main(base + ["--model", "mlp", "--latent-dim", "3", "--out",
                           str(tmp_path)])
    with pytest.raises(SystemExit, match="--model mlp, --latent-dim 3; this command "
                                         "asks for --model conv, --latent-dim 16"):
        train_vae.main(base + ["--out", str(tmp_path), "--resume"])


@pytest.mark.parametrize("name", TRAINERS + ("plot_gradients",))
def test_a_diverging_run_stops_naming_the_step_and_suggesting_a_lower_lr(
        name, tmp_path):
    argv = QUICK.get(name, []) + ["--limit", "32", "--lr", "1e30", "--no-progress",
                                  "--out", str(tmp_path)]
    argv += ["--steps", "5"] if name == "plot_gradients" else ["--epochs", "2"]
    with np.errstate(all="ignore"), pytest.raises(training.Divergence) as info:
        script(name).main(argv)
    message = str(info.value)
    assert "training diverged at" in message and "Try a lower --lr (this run: 1e+30)" \
        in message
    assert "epoch" in message or "step" in message
    assert not (tmp_path / "model.npz").exists()   # no checkpoint of broken numbers


def test_one_non_finite_check_for_every_training_loop():
    for name in ("train_vae", "train_gan", "plot_gradients"):
        assert script(name).check_finite is training.check_finite
    assert script("train_gan").Divergence is training.Divergence


def test_run_script_turns_a_divergence_or_ctrl_c_into_one_line():
    def diverging():
        training.check_finite("epoch 1/1, step 3", 0.1, loss=float("nan"))
    with pytest.raises(SystemExit, match=r"^stopped: training diverged at epoch 1/1, "
                                         r"step 3: loss is not finite"):
        training.run_script(diverging)

    def interrupted():
        raise KeyboardInterrupt
    with pytest.raises(SystemExit, match="^interrupted; .* --resume$"):
        training.run_script(interrupted)


# ------------------------------------------------------------------ data folders
def fake_folder(path, names, damage=None):
    """The official file names holding tiny arrays (wrong MD5s), optionally damaged."""
    path.mkdir(parents=True, exist_ok=True)
    for name in names:
        shape = (3, 28, 28) if "images" in name else (3,)
        write_idx(path / f"{name}.gz", np.zeros(shape, np.uint8))
    if damage:
        target = path / f"{damage}.gz"
        target.write_bytes(target.read_bytes()[:30])
    return path


NAMES = list(mnist_module.FILES)


@pytest.mark.parametrize("name", TRAINERS + ("plot_gradients",))
def test_a_named_data_folder_is_used_or_refused_never_replaced(name, tmp_path, offline):
    argv = QUICK.get(name, []) + ["--out", str(tmp_path / "out"), "--no-progress"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit) as info:
        script(name).main(argv + ["--data-dir", str(empty)])
    assert "holds 0 of the 4" in str(info.value) and all(n in str(info.value)
                                                        for n in NAMES)
    partial = fake_folder(tmp_path / "partial", NAMES[:2])
    (partial / "README.txt").write_text("my notes")
    with pytest.raises(SystemExit) as info:
        script(name).main(argv + ["--data-dir", str(partial)])
    message = str(info.value)
    assert "holds 2 of the 4" in message and "README.txt" in message
    found, missing = message.split("; missing ")
    assert all(n in found for n in NAMES[:2]) and all(n in missing for n in NAMES[2:])
    wrong = fake_folder(tmp_path / "wrong", NAMES)
    with pytest.raises(SystemExit, match="train-images-idx3-ubyte has 2368 bytes of IDX "
                                         "data, the expected file has 47040016"):
        script(name).main(argv + ["--data-dir", str(wrong)])
    truncated = fake_folder(tmp_path / "truncated", NAMES, damage=NAMES[0])
    with pytest.raises(SystemExit, match=f"{NAMES[0]}.gz: the gzip data is damaged"):
        script(name).main(argv + ["--data-dir", str(truncated)])
    assert not (tmp_path / "out").exists()    # a refused run leaves nothing behind


def test_edit_images_refuses_bad_inputs_before_loading_anything(tmp_path, no_work):
    (tmp_path / "notes.png").write_text("not a picture")
    minidl.save({"x": 1}, tmp_path / "model.npz")
    with pytest.raises(SystemExit, match="cannot read .*notes.png as an image"):
        script("edit_images").main(["--checkpoint", str(tmp_path / "model.npz"),
                                    "--image", str(tmp_path / "notes.png")])


def test_edit_images_reports_a_broken_checkpoint_in_one_line(tmp_path):
    (tmp_path / "model.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(SystemExit, match="edit_images.py: error: load: .*model.npz is "
                                         "truncated or corrupted"):
        script("edit_images").main(["--checkpoint", str(tmp_path / "model.npz")])


# ------------------------------------------------------------------ user pictures
def stroke_picture(mode="L", size=(60, 90)):
    """A dark vertical bar (a '1') left of centre on white."""
    from PIL import Image, ImageDraw
    picture = Image.new(mode, size, "white")
    ImageDraw.Draw(picture).rectangle([10, 10, 25, 80], fill="black")
    return picture


def test_a_sideways_phone_photo_is_read_upright(tmp_path):
    from PIL import Image
    upright = stroke_picture()
    upright.save(tmp_path / "upright.png")
    sideways = upright.transpose(Image.Transpose.ROTATE_90)   # as the sensor stored it
    exif = Image.Exif()
    exif[0x0112] = 6                                          # "rotate 90 CW to view"
    sideways.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    digit = script("edit_images").to_mnist(tmp_path / "phone.jpg")[0]
    reference = script("edit_images").to_mnist(tmp_path / "upright.png")[0]
    rows, cols = np.nonzero(digit > 0.5)
    assert np.ptp(rows) > 3 * np.ptp(cols)                        # a tall bar, not a wide one
    assert np.abs(digit - reference).mean() < 0.05


@pytest.mark.parametrize("ink", ["black", "white"])
def test_ink_drawn_only_in_the_alpha_channel_is_ink(tmp_path, ink):
    from PIL import Image
    alpha = np.asarray(stroke_picture(), dtype=np.uint8)      # 0 where the bar is
    rgba = np.zeros(alpha.shape + (4,), np.uint8)
    rgba[..., :3] = 0 if ink == "black" else 255               # one colour everywhere
    rgba[..., 3] = 255 - alpha                                # opaque only on the bar
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    digit = script("edit_images").to_mnist(tmp_path / "alpha.png")[0]
    rows, cols = np.nonzero(digit > 0.5)
    assert digit.max() > 0.9 and np.ptp(rows) > 3 * np.ptp(cols)


def test_sixteen_bit_grayscale_pictures_work(tmp_path):
    from PIL import Image
    gray = np.asarray(stroke_picture(), dtype=np.uint16) * 257   # 0..65535
    Image.fromarray(gray).save(tmp_path / "deep.png")
    assert script("edit_images").to_mnist(tmp_path / "deep.png").max() > 0.9


# -- the examples find each other and the models by normal imports (issue 12, item 7)
def test_no_example_edits_sys_path():
    offenders = [p.name for p in sorted((ROOT / "examples").glob("*.py"))
                 if "sys.path" in p.read_text()]
    assert not offenders, f"{offenders} insert into sys.path"


@pytest.mark.parametrize("script", ["train_cnn.py", "train_vae.py", "train_gan.py",
                                    "edit_images.py"])
def test_example_starts_from_any_folder(tmp_path, script):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--help"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout
