"""The checks of exercises 11-15: Module and Linear, optimizer updates, training the
seed CNN, the VAE's loss, the GAN losses and the gradient penalty."""
from __future__ import annotations

import time

import numpy as np
from hypothesis import given, strategies as st

import minidl
from .. import autograd, functional as F, nn, optim
from ..gradcheck import OpSpec, normal
from .check_autograd import PROPERTY, normals, op_steps, tensor
from .grader import (CheckFailed, check_forward, check_gradients, expect_close,
                     run_property, swapped, values)
from .pieces import minidl_im2col


# ------------------------------------------------------------------ 11. nn
class Shared(nn.Module):
    """A model with a direct Parameter, a nested Sequential and one layer used twice."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(minidl.ones(1))
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 4)))
        self.head = nn.Linear(4, 2)
        self.again = self.head


def _names(module, named_parameters):
    found = [(name, id(p)) for name, p in named_parameters(module)]
    expected = [(name, id(p)) for name, p in module.named_parameters()]
    if len(found) > len(expected) and len({i for _, i in found}) == len(expected):
        raise CheckFailed(f"a shared Parameter is listed twice ({len(found)} entries for "
                          f"{len(expected)} Parameters): an optimizer would step it twice "
                          "-- skip the ones already yielded")
    if found != expected:
        raise CheckFailed(f"expected the names, in order, {[n for n, _ in expected]}; got "
                          f"{[n for n, _ in found]} (own Parameters first, then each "
                          "child's with its name and a dot in front)")


def _linear_init(Linear):
    layer = Linear(400, 30)
    w, b = values(layer.weight), values(layer.bias)
    if w.shape != (30, 400) or b.shape != (30,):
        raise CheckFailed(f"Linear(400, 30): weight {w.shape}, bias {b.shape}; expected "
                          "(30, 400) and (30,): PyTorch's layout is (out, in)")
    names = [name for name, _ in layer.named_parameters()]
    if names != ["weight", "bias"]:
        raise CheckFailed(f"Linear's Parameters are {names}: assign nn.Parameter objects "
                          "to self.weight, then self.bias")
    bound = 1 / np.sqrt(400)
    if np.abs(w).max() > bound or np.abs(w).max() < 0.9 * bound or np.abs(b).max() > bound:
        raise CheckFailed(f"Linear(400, 30)'s weights reach {np.abs(w).max():.4f}; they are "
                          f"drawn uniformly from [-1/sqrt(400), 1/sqrt(400)] = +-{bound}")


def _linear_spec(Linear):
    layer = Linear(5, 3)
    rng = np.random.default_rng(0)
    layer.weight = nn.Parameter(minidl.tensor(rng.standard_normal((3, 5))))
    layer.bias = nn.Parameter(minidl.tensor(rng.standard_normal(3)))
    return OpSpec("Linear(5, 3) on x (4, 5)", lambda x, w, b: layer(x),
                  lambda r: (r.standard_normal((4, 5)), values(layer.weight),
                             values(layer.bias)),
                  reference=lambda x, w, b: x @ w.T + b), layer


def check_11(ws, run):
    m = ws.module(11)
    models = {"Sequential(Linear, ReLU, Linear)":
              nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)),
              "a model with a shared layer": Shared()}
    for name, model in models.items():
        run.step(f"named_parameters of {name} against minidl's", _names, model,
                 m.named_parameters)
    run.step("Linear: shapes, names and initial range", _linear_init, m.Linear)
    spec, layer = _linear_spec(m.Linear)

    def through_the_layer(spec):  # the layer's own Parameters are the checked inputs
        x = spec.inputs()[0]
        for p in (layer.weight, layer.bias):
            p.requires_grad_(True)
        check_gradients(OpSpec(spec.name, spec.fn, spec.sample),
                        inputs=(x, layer.weight, layer.bias))
    run.step(f"{spec.name}: forward against x @ W^T + b", check_forward, spec)
    run.step(f"{spec.name}: gradcheck and gradgradcheck", through_the_layer, spec)


# ------------------------------------------------------------------ 12. optimizers
def _reference_steps(make, param, grads):
    p = nn.Parameter(minidl.tensor(param.copy()))
    opt = make([p])
    for g in grads:
        p.grad = minidl.tensor(g)
        opt.step()
    return values(p)


def _sgd(m, lr, momentum, grads, param):
    p, buf = param.copy(), None
    for g in grads:
        buf = m.sgd_step(p, g.copy(), buf, lr, momentum)
    expect_close(f"SGD(lr={lr}, momentum={momentum}) after {len(grads)} steps", p,
                 _reference_steps(lambda ps: optim.SGD(ps, lr, momentum), param, grads),
                 hint="b = momentum * b + g (b starts as a copy of the first g); "
                      "p -= lr * b")


def _adam(m, lr, grads, param):
    p, mom, var = param.copy(), np.zeros_like(param), np.zeros_like(param)
    for t, g in enumerate(grads, start=1):
        m.adam_step(p, g.copy(), mom, var, t, lr)
    expect_close(f"Adam(lr={lr}) after {len(grads)} steps", p,
                 _reference_steps(lambda ps: optim.Adam(ps, lr), param, grads))


def _first_adam_step(m):
    param, g = np.zeros(5), np.array([3.0, -0.2, 1e-3, -40.0, 0.5])
    m.adam_step(param, g, np.zeros(5), np.zeros(5), 1, 1e-3)
    if not np.allclose(np.abs(param), 1e-3, rtol=1e-2):
        raise CheckFailed(
            f"the first Adam step (lr 1e-3) moved the weights by {np.abs(param)}; it moves "
            "each by ~lr. Bias correction: m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)"
            " -- without it, m and v start near zero and the first steps are wrong")


def _adam_minimises(m):
    x = nn.Parameter(minidl.zeros(3, dtype=minidl.float64))
    opt = m.Adam([x], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        ((x - 3.0) ** 2).sum().backward()
        opt.step()
    expect_close("x after 300 steps of your Adam on sum((x - 3)^2)", x, np.full(3, 3.0),
                 rtol=1e-2)


def check_12(ws, run):
    m = ws.module(12)
    rng = np.random.default_rng(0)
    param, grads = rng.standard_normal(6), list(rng.standard_normal((5, 6)))
    run.step("sgd_step, 5 steps, against minidl.optim.SGD", _sgd, m, 0.1, 0.9, grads, param)
    run.step("the first Adam step moves each weight by ~lr", _first_adam_step, m)
    run.step("adam_step, 5 steps, against minidl.optim.Adam", _adam, m, 0.01, grads, param)

    @PROPERTY
    @given(st.floats(1e-3, 0.5), st.floats(0, 0.99), st.integers(1, 6))
    def updates(lr, momentum, steps):
        _sgd(m, lr, momentum, grads[:steps] * 2, param)
        _adam(m, lr, grads[:steps] * 2, param)
    run.step("property: any lr, momentum, number of steps", run_property, updates)
    run.step("your Adam minimises a quadratic", _adam_minimises, m)


# ------------------------------------------------------------------ 13. training
EPOCHS, BATCH, LR, DECAY, TARGET_ACCURACY = 8, 32, 2e-3, 0.75, 0.98


class StudentCNN(nn.Module):
    """models/cnn.py's SeedCNN (its layers and initial weights), run with the
    student's conv2d, max_pool2d and Linear; inputs normalised to MNIST's mean, std."""

    def __init__(self, conv2d, max_pool2d, Linear):
        from models.cnn import SeedCNN
        super().__init__()
        self.seed = SeedCNN()
        self.conv2d, self.max_pool2d = conv2d, max_pool2d
        dense = []
        for layer in self.seed.classifier:
            if isinstance(layer, nn.Linear):  # the student's, with the seed's weights
                mine = Linear(layer.in_features, layer.out_features)
                mine.weight, mine.bias = layer.weight, layer.bias
                layer = mine
            dense.append(layer)
        self.seed.classifier = nn.Sequential(*dense)

    def forward(self, x):
        x = (x - 0.1307) / 0.3081
        convs = [layer for layer in self.seed.features if isinstance(layer, nn.Conv2d)]
        for k, conv in enumerate(convs):
            x = F.relu(self.conv2d(x, conv.weight, conv.bias))
            x = self.max_pool2d(x, 2) if k < 2 else x
        return self.seed.classifier(x)


class Shifted:
    """A DataLoader whose images are moved by up to `most` pixels each way (a seeded
    data augmentation: 10,000 digits alone leave the seed CNN just short of 98%)."""

    def __init__(self, loader, most=2, seed=0):
        self.loader, self.most = loader, most
        self.dataset, self.rng = loader.dataset, np.random.default_rng(seed)

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        k = self.most
        for x, y in self.loader:
            padded = np.pad(values(x), ((0, 0), (0, 0), (k, k), (k, k)))
            h, w = x.shape[2:]
            dy, dx = self.rng.integers(0, 2 * k + 1, (2, len(padded)))
            yield minidl.tensor(np.stack([p[:, a:a + h, b:b + w] for p, a, b
                                          in zip(padded, dy, dx)])), y


def _set_lr(optimizer, lr):
    for group in getattr(optimizer, "param_groups", ()):
        group["lr"] = lr
    if hasattr(optimizer, "lr"):
        optimizer.lr = lr


def _train(ws, say):
    from ..data import MNIST, DataLoader
    m = ws.module(13)
    conv2d = ws.piece(9, "conv2d", lambda x, w, b, stride=1, padding=0: F.conv2d(x, w, b))
    max_pool2d = ws.piece(10, "max_pool2d", lambda x, k: F.max_pool2d(x, k))
    loss_fn = ws.piece(5, "cross_entropy", F.cross_entropy)
    make_adam = ws.piece(12, "Adam", optim.Adam)
    linear = ws.piece(11, "Linear", nn.Linear)
    minidl.manual_seed(0)
    train = Shifted(DataLoader(MNIST(train=True, download=False, limit=10_000), BATCH,
                               shuffle=True, seed=0))
    test = DataLoader(MNIST(train=False, download=False, limit=2_000), 1000)
    model = StudentCNN(conv2d, max_pool2d, linear)
    optimizer = make_adam(model.parameters(), lr=LR)
    losses, start = [], time.perf_counter()
    for epoch in range(EPOCHS):
        _set_lr(optimizer, LR * DECAY ** epoch)
        losses.append(float(m.train_epoch(model, train, optimizer, loss_fn)))
        accuracy = float(m.evaluate(model, test))
        say(f"      epoch {epoch + 1}: mean loss {losses[-1]:.4f}, test accuracy "
            f"{accuracy:.4f} ({time.perf_counter() - start:.0f} s)")
        if accuracy < 0.8:  # (a working loop is past 0.9 after one epoch)
            raise CheckFailed(f"test accuracy {accuracy:.4f} after epoch {epoch + 1}: the "
                              "model is not learning -- does train_epoch call "
                              "optimizer.zero_grad(), loss.backward() and "
                              "optimizer.step() for every batch?")
        if TARGET_ACCURACY <= accuracy <= 1:
            break  # reached: done
    if len(losses) > 1 and not losses[-1] < losses[0]:
        raise CheckFailed(f"the training loss did not fall: {losses}")
    if not TARGET_ACCURACY <= accuracy <= 1:
        raise CheckFailed(f"test accuracy {accuracy:.4f} after {EPOCHS} epochs; expected "
                          f">= {TARGET_ACCURACY}. Check that train_epoch zeroes the "
                          "gradients before each backward and that evaluate counts "
                          "argmax(dim=1) == y over the whole test set")


TRAINING = (f"SeedCNN with your pieces reaches test accuracy >= {TARGET_ACCURACY} "
            f"within {EPOCHS} epochs")


def check_13(ws, run):
    module9 = ws.module(9) if ws.done(9) else None
    if module9 is not None and hasattr(module9, "im2col"):  # plain loops: too slow here
        with swapped(module9, "im2col", minidl_im2col):
            run.step(TRAINING, _train, ws, run.say)
    else:
        run.step(TRAINING, _train, ws, run.say)


# ------------------------------------------------------------------ 14. VAE
def check_14(ws, run):
    from models import vae
    m = ws.module(14)
    two = normals((4, 3), (4, 3))
    x = np.random.default_rng(5).uniform(0, 1, (4, 6))
    run.step("z has mean mu and standard deviation exp(logvar / 2)", _sample_moments, m)
    op_steps(run, [
        OpSpec("gaussian_kl", m.gaussian_kl, two,
               reference=lambda mu, lv: vae.gaussian_kl(tensor(mu), tensor(lv))),
        OpSpec("reparameterize (eps fixed)",
               lambda mu, lv: m.reparameterize(mu, lv, minidl.tensor(x[:, :3])), two,
               reference=lambda mu, lv: mu + np.exp(lv / 2) * x[:, :3]),
        OpSpec("negative_elbo", lambda lg, mu, lv: m.negative_elbo(lg, tensor(x), mu, lv),
               lambda rng: (rng.standard_normal((4, 6)),) + two(rng),
               reference=lambda lg, mu, lv: vae.negative_elbo(
                   tensor(lg), tensor(x), tensor(mu), tensor(lv)).loss),
    ])

    @PROPERTY
    @given(st.floats(-3, 3), st.floats(-3, 3))
    def kl(mu, logvar):
        got = values(m.gaussian_kl(tensor([[mu, 0.0]]), tensor([[logvar, 0.0]])))
        if not got.min() >= -1e-12:
            raise CheckFailed(f"KL({mu}, {logvar}) = {got}: a KL divergence is >= 0")
        expect_close("KL at mu = 0, logvar = 0", m.gaussian_kl(tensor([[0.0]]),
                                                                 tensor([[0.0]])), [0.0])
    run.step("properties: KL >= 0, and 0 at the prior", run_property, kl)


def _sample_moments(m):
    eps = np.random.default_rng(0).standard_normal((20_000, 1))
    mu, logvar = np.full((20_000, 1), 1.5), np.full((20_000, 1), np.log(4.0))
    z = values(m.reparameterize(tensor(mu), tensor(logvar), minidl.tensor(eps)))
    if abs(z.mean() - 1.5) > 0.05 or abs(z.std() - 2.0) > 0.05:
        raise CheckFailed(f"with mu 1.5 and logvar log(4) (sigma 2), z has mean "
                          f"{z.mean():.3f} and std {z.std():.3f}: sigma = "
                          "exp(logvar / 2), the square root of the variance")


# ------------------------------------------------------------------ 15. GAN
def _critic(ws, weight):
    """A two-layer critic made of exercise 2's Tanh and exercise 4's MatMul."""
    tanh = ws.piece(2, "Tanh", None)
    matmul = ws.piece(4, "MatMul", None)
    tanh_apply = tanh.apply if tanh is not None else F.tanh
    matmul_apply = matmul.apply if matmul is not None else minidl.matmul
    second = minidl.tensor(np.linspace(-1, 1, weight.shape[1]).reshape(-1, 1))
    return lambda x: matmul_apply(tanh_apply(matmul_apply(x.reshape(x.shape[0], -1),
                                                          weight)), second)


def check_15(ws, run):
    from models import gan
    m = ws.module(15)
    logits = normals((5, 1), (5, 1))
    rng = np.random.default_rng(2)
    real, fake = tensor(rng.standard_normal((3, 4))), tensor(rng.standard_normal((3, 4)))
    alpha = minidl.tensor(rng.uniform(0, 1, (3, 1)))
    run.step("the penalty reaches the critic's weights (create_graph=True)",
             _penalty_has_gradient, m, ws, real, fake, alpha)
    op_steps(run, [
        OpSpec("discriminator_loss", m.discriminator_loss, logits,
               reference=lambda r, f: gan.discriminator_loss(tensor(r), tensor(f))),
        OpSpec("generator_loss", m.generator_loss, normal(5, 1),
               reference=lambda f: gan.generator_loss(tensor(f))),
        OpSpec("gradient_penalty, with respect to the critic's weight",
               lambda w: m.gradient_penalty(_critic(ws, w), real, fake, alpha),
               normal(4, 3), reference=lambda w: gan.gradient_penalty(
                   _critic(ws, tensor(w)), real, fake, alpha=alpha)),
    ])
    run.step("a critic with gradient norm 1 has no penalty", _unit_critic, m, real,
             fake, alpha)


def _penalty_has_gradient(m, ws, real, fake, alpha):
    w = tensor(np.random.default_rng(4).standard_normal((4, 3)))
    penalty = m.gradient_penalty(_critic(ws, w), real, fake, alpha)
    g = autograd.grad(penalty, w, allow_unused=True)[0] if penalty.requires_grad else None
    if g is None or not np.abs(values(g)).sum() > 0:
        raise CheckFailed("the penalty has no gradient with respect to the critic's "
                          "weight: take the inner gradient with autograd.grad(..., "
                          "create_graph=True) so that it is part of the graph")


def _unit_critic(m, real, fake, alpha):
    direction = minidl.tensor(np.array([[0.6], [0.8], [0.0], [0.0]]))  # norm 1
    penalty = m.gradient_penalty(lambda x: x.reshape(x.shape[0], -1) @ direction,
                                 real, fake, alpha)
    expect_close("penalty of a critic whose gradient has norm 1", penalty, 0.0,
                 atol=1e-6)
