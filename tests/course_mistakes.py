"""Common mistakes, planted in otherwise correct exercise pieces: the course's checks
(minidl/course) must fail on each with the message that teaches the fix. Used by
tests/test_course.py as {exercise: {name: replacement}}."""
import numpy as np

import minidl
import minidl.functional as F
from minidl import Function, autograd, nn
from minidl.course.pieces import minidl_col2im, minidl_im2col


# ------------------------------------------------------------------ 1: a hand-made Value
class Value:
    """Exercise 1 by hand; walk="preorder" visits a value before all its consumers."""
    walk = "topological"

    def __init__(self, data, parents=()):
        self.data, self.grad, self._parents = float(data), 0.0, tuple(parents)
        self._backward = lambda: None

    def _make(self, data, parents, local):
        out = type(self)(data, parents)

        def send():  # parent.grad += dL/dout * dout/dparent
            for p, d in zip(parents, local):
                p.grad += out.grad * d
        out._backward = send
        return out

    def _lift(self, other):
        return other if isinstance(other, Value) else type(self)(other)

    def __add__(self, other):
        other = self._lift(other)
        return self._make(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._lift(other)
        return self._make(self.data * other.data, (self, other), (other.data, self.data))

    def tanh(self):
        t = np.tanh(self.data)
        return self._make(t, (self,), (1 - t * t,))

    def exp(self):
        e = np.exp(self.data)
        return self._make(e, (self,), (e,))

    def backward(self):
        order, seen = [], set()

        def visit(v):  # post-order: a value after all its parents
            if v not in seen:
                seen.add(v)
                if self.walk == "preorder":
                    order.append(v)
                for p in v._parents:
                    visit(p)
                if self.walk != "preorder":
                    order.append(v)
        visit(self)
        self.grad = 1.0
        for v in (order if self.walk == "preorder" else reversed(order)):
            v._backward()

    __radd__, __rmul__ = __add__, __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)


class PreorderValue(Value):
    walk = "preorder"


# ------------------------------------------------------------------ 2: a sign error
class DivSignError(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g / b, g * a / (b * b)  # should be -g * a / b^2


# ------------------------------------------------------------------ 3: no sum
def sum_to_forgets_to_sum(g, shape):
    return g


# ------------------------------------------------------------------ 4: B instead of B^T
class MatMulNoTranspose(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g @ b.T, g.T @ a  # dL/dB should be A^T @ G (k, m), not (m, k)


# ------------------------------------------------------------------ 5: no max shift
def softmax_unshifted(x, dim=-1):
    e = x.exp()
    return e / e.sum(dim=dim, keepdim=True)


# ------------------------------------------------------------------ 6: walks
def preorder(roots):
    """Depth-first pre-order: a node before its parents, but maybe before another
    consumer of it too."""
    order, seen, stack = [], set(), list(reversed(roots))
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            order.append(node)
            stack.extend(reversed(autograd._parents(node)))
    return order


def accumulate_by_assigning(grads, node, g):
    grads[node] = g


# ------------------------------------------------------------------ 7: numpy backward
class SinNumpyBackward(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * minidl.tensor(np.cos(x.detach().numpy()))  # a constant to the graph


# ------------------------------------------------------------------ 8: plain loops
def im2col_loops(x, kh, kw, stride=1, padding=0):
    """Exercise 8 as its docstring says (used to check the template is solvable)."""
    n, c, h, w = x.shape
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    cols = np.zeros((c, kh, kw, n, oh, ow), x.dtype)
    for ci, i, j, ni, y, z in np.ndindex(c, kh, kw, n, oh, ow):
        r, s = y * stride - padding + i, z * stride - padding + j
        if 0 <= r < h and 0 <= s < w:
            cols[ci, i, j, ni, y, z] = x[ni, ci, r, s]
    return cols.reshape(c * kh * kw, n * oh * ow)


def col2im_assigning(cols, x_shape, kh, kw, stride=1, padding=0):
    n, c, h, w = x_shape
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    cols = cols.reshape(c, kh, kw, n, oh, ow)
    x = np.zeros(x_shape)
    for ci, i, j, ni, y, z in np.ndindex(c, kh, kw, n, oh, ow):
        r, s = y * stride - padding + i, z * stride - padding + j
        if 0 <= r < h and 0 <= s < w:
            x[ni, ci, r, s] = cols[ci, i, j, ni, y, z]  # should be +=
    return x


# ------------------------------------------------------------------ 9: conv2d
class Conv2dFromTemplate(Function):
    """Exercise 9 written from its template (forward: im2col + one GEMM)."""
    output_padding = True

    @staticmethod
    def forward(ctx, x, w, stride, padding):
        ctx.stride, ctx.padding = stride, padding
        ctx.save_for_backward(x, w)
        (n, _, h, wd), (o, _, kh, kw) = x.shape, w.shape
        oh, ow = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
        y = w.reshape(o, -1) @ minidl_im2col(x, kh, kw, stride, padding)
        return np.ascontiguousarray(y.reshape(o, n, oh, ow).transpose(1, 0, 2, 3))

    @classmethod
    def backward(cls, ctx, g):
        x, w = ctx.saved_tensors
        s, p = ctx.stride, ctx.padding
        (kh, kw), (oh, ow) = w.shape[2:], g.shape[2:]
        extra = (x.shape[2] - ((oh - 1) * s - 2 * p + kh),
                 x.shape[3] - ((ow - 1) * s - 2 * p + kw)) if cls.output_padding else 0
        gx = F.conv_transpose2d(g, w, stride=s, padding=p, output_padding=extra)
        gw = F.conv2d_weight(x, w.shape, g, stride=s, padding=p)
        return gx, gw, None, None


class Conv2dNoOutputPadding(Conv2dFromTemplate):
    output_padding = False  # the rows a strided convolution dropped are lost


# ------------------------------------------------------------------ 10: max-pool
class MaxPoolFromTemplate(Function):
    """Exercise 10 written from its template."""

    @staticmethod
    def forward(ctx, x, k):
        n, c, h, w = x.shape
        oh, ow = h // k, w // k
        windows = x[:, :, :oh * k, :ow * k].reshape(n, c, oh, k, ow, k)
        windows = windows.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, k * k)
        best = windows.argmax(axis=-1)                   # position inside the window
        rows = np.arange(oh)[:, None] * k + best // k    # back to the plane
        cols = np.arange(ow)[None, :] * k + best % k
        ctx.argmax, ctx.in_shape = rows * w + cols, x.shape
        return np.take_along_axis(windows, best[..., None], -1)[..., 0]

    @staticmethod
    def backward(ctx, g):
        return ScatterFromTemplate.apply(g, ctx.argmax, ctx.in_shape), None


class ScatterFromTemplate(Function):
    @staticmethod
    def forward(ctx, g, argmax, in_shape):
        n, c, h, w = in_shape
        ctx.argmax = argmax
        planes = np.zeros((n * c, h * w), g.dtype)
        np.add.at(planes, (np.arange(n * c)[:, None], argmax.reshape(n * c, -1)),
                  g.reshape(n * c, -1))
        return planes.reshape(in_shape)

    @staticmethod
    def backward(ctx, gg):
        n, c = gg.shape[:2]
        index = ctx.argmax.reshape(n * c, -1)
        picked = gg.reshape(n * c, -1)[np.arange(n * c)[:, None], index]
        return picked.reshape(ctx.argmax.shape), None, None


class MaxPoolFirstElement(Function):
    """Forward right; backward sends each gradient to the window's first element."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.in_shape, ctx.k = x.shape, k
        return F.max_pool2d(minidl.tensor(x), k).numpy()

    @staticmethod
    def backward(ctx, g):
        n, c, h, w = ctx.in_shape
        k = ctx.k
        gx = minidl.zeros(ctx.in_shape, dtype=g.dtype)
        oh, ow = g.shape[2:]
        gx[:, :, 0:oh * k:k, 0:ow * k:k] = g
        return gx, None


# ------------------------------------------------------------------ 11: nn
def named_parameters_from_template(module, prefix="", seen=None, dedupe=True):
    """Exercise 11 written from its template."""
    seen = set() if seen is None else seen
    for name, p in module._parameters.items():
        if p is not None and (id(p) not in seen or not dedupe):
            seen.add(id(p))
            yield prefix + name, p
    for name, child in module._modules.items():
        if child is not None:
            yield from named_parameters_from_template(child, prefix + name + ".", seen,
                                                      dedupe)


def named_parameters_twice(module, prefix="", seen=None):
    return named_parameters_from_template(module, prefix, seen, dedupe=False)


class LinearFromTemplate(nn.Module):
    shape = "out, in"

    def __init__(self, in_features, out_features):
        super().__init__()
        bound = 1 / np.sqrt(in_features)
        rows, cols = ((out_features, in_features) if self.shape == "out, in"
                      else (in_features, out_features))
        self.weight = nn.Parameter((minidl.rand(rows, cols) * 2 - 1) * bound)
        self.bias = nn.Parameter((minidl.rand(out_features) * 2 - 1) * bound)

    def forward(self, x):
        w = self.weight.T if self.shape == "out, in" else self.weight
        return x @ w + self.bias


class LinearTransposed(LinearFromTemplate):
    shape = "in, out"  # the weight stored (in, out): not PyTorch's layout


# ------------------------------------------------------------------ 12: Adam
def adam_without_bias_correction(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999),
                                 eps=1e-8):
    m *= betas[0]
    m += (1 - betas[0]) * grad
    v *= betas[1]
    v += (1 - betas[1]) * grad * grad
    param -= lr * m / (np.sqrt(v) + eps)


# ------------------------------------------------------------------ 13: no step
def train_epoch_without_step(model, loader, optimizer, loss_fn):
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        total += loss.item()
    return total / len(loader)


# ------------------------------------------------------------------ 14: sigma
def reparameterize_with_variance(mu, logvar, eps):
    return mu + logvar.exp() * eps  # exp(logvar) is the variance, not sigma


# ------------------------------------------------------------------ 15: no graph
def penalty_without_create_graph(critic, real, fake, alpha, lambda_=10.0):
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_()
    (grad,) = autograd.grad(critic(x_hat).sum(), x_hat)  # create_graph=True missing
    norm = (grad.reshape(grad.shape[0], -1).pow(2).sum(1) + 1e-12).sqrt()
    return lambda_ * ((norm - 1) ** 2).mean()


# ------------------------------------------------------------------ written from templates
def log_softmax_from_template(x, dim=-1):
    shifted = x - x.max(dim=dim, keepdim=True).values.detach()
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()


def softmax_from_template(x, dim=-1):
    return log_softmax_from_template(x, dim).exp()


def cross_entropy_from_template(logits, target):
    logp = log_softmax_from_template(logits, dim=1)
    return -logp[minidl.arange(len(target)), target].mean()


def topological_order_from_template(roots):
    """Kahn's algorithm, as exercise 6's hint says."""
    consumers, todo, seen = {}, list(roots), set(roots)
    while todo:
        for p in autograd._parents(todo.pop()):
            consumers[p] = consumers.get(p, 0) + 1
            if p not in seen:
                seen.add(p)
                todo.append(p)
    order, ready = [], [r for r in roots if r not in consumers]
    while ready:
        node = ready.pop()
        order.append(node)
        for p in autograd._parents(node):
            consumers[p] -= 1
            if consumers[p] == 0:
                ready.append(p)
    return order


def accumulate_from_template(grads, node, g):
    grads[node] = grads[node] + g if node in grads else g


def sgd_step_from_template(param, grad, buf, lr, momentum):
    buf = grad.copy() if buf is None else momentum * buf + grad
    param -= lr * buf
    return buf


def adam_step_from_template(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999),
                            eps=1e-8):
    m *= betas[0]
    m += (1 - betas[0]) * grad
    v *= betas[1]
    v += (1 - betas[1]) * grad * grad
    m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
    param -= lr * m_hat / (np.sqrt(v_hat) + eps)


def gaussian_kl_from_template(mu, logvar):
    return 0.5 * (mu * mu + logvar.exp() - 1 - logvar).sum(dim=1)


def negative_elbo_from_template(logits, x, mu, logvar):
    per_pixel = logits.clamp(min=0) - logits * x + (-logits.abs()).exp().log1p()
    return (per_pixel.reshape(len(x), -1).sum(dim=1) + gaussian_kl_from_template(
        mu, logvar)).mean()


# (exercise, replacements, a phrase the failure message must contain)
MISTAKES = [(n, replace, phrase) for n, cases in {
    1: ({"Value": PreorderValue}, "topological order reversed"),
    2: ({"Div": DivSignError}, "wrong sign everywhere"),
    3: ({"sum_to": sum_to_forgets_to_sum}, "sum over the broadcast axes"),
    4: ({"MatMul": MatMulNoTranspose}, "invalid gradient"),
    5: ({"softmax": softmax_unshifted}, "subtract each row's max"),
    6: ({"topological_order": preorder}, "visited before all its consumers",
        {"accumulate": accumulate_by_assigning}, "SUM over every use"),
    7: ({"Sin": SinNumpyBackward}, "second are wrong"),
    8: ({"col2im": col2im_assigning}, "must ADD"),
    9: ({"Conv2d": Conv2dNoOutputPadding}, "invalid gradient"),
    10: ({"MaxPool2d": MaxPoolFirstElement}, "the backward is wrong"),
    11: ({"named_parameters": named_parameters_twice}, "listed twice",
         {"Linear": LinearTransposed}, "(out, in)"),
    12: ({"adam_step": adam_without_bias_correction}, "Bias correction"),
    13: ({"train_epoch": train_epoch_without_step}, "not learning"),
    14: ({"reparameterize": reparameterize_with_variance}, "square root of the variance"),
    15: ({"gradient_penalty": penalty_without_create_graph}, "create_graph=True"),
}.items() for replace, phrase in zip(cases[::2], cases[1::2])]

# pieces written from the templates alone, which must pass (exercise -> names)
HAND_WRITTEN = {
    1: {"Value": Value},
    8: {"im2col": im2col_loops, "col2im": minidl_col2im},
    9: {"Conv2d": Conv2dFromTemplate},
    10: {"MaxPool2d": MaxPoolFromTemplate, "Scatter": ScatterFromTemplate},
    11: {"named_parameters": named_parameters_from_template,
         "Linear": LinearFromTemplate},
    5: {"softmax": softmax_from_template, "log_softmax": log_softmax_from_template,
        "cross_entropy": cross_entropy_from_template},
    6: {"topological_order": topological_order_from_template,
        "accumulate": accumulate_from_template},
    12: {"sgd_step": sgd_step_from_template, "adam_step": adam_step_from_template},
    14: {"gaussian_kl": gaussian_kl_from_template,
         "negative_elbo": negative_elbo_from_template},
}
