"""A guided tour of the engine, in six steps, for a student reading minidl.

    python examples/tour.py [--out runs/tour]

1. build a tiny expression (one neuron, its squared error and a weight penalty);
2. print the graph that autograd recorded for it;
3. run backward by hand, one node at a time, exactly as minidl/autograd.py does;
4. check those gradients with finite differences (minidl.gradcheck), and watch
   gradcheck catch a wrong derivative;
5. write a new op, swish, as a Function, and check its first and second derivatives;
6. a one-layer convolution on a 4x4 image, computed as one matrix product through
   im2col (minidl/kernels/im2col.py).

Each step prints what it shows. Three figures go to --out: graph.png (the graph of
step 2), swish.png (the new op and its derivatives) and im2col.png (the convolution as
a matrix product). Runs in a few
seconds; everything is float64 and deterministic.
"""
import pathlib
import sys

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import minidl
import minidl.functional as F
from minidl import autograd, nn
from minidl.autograd import Function
from minidl.gradcheck import GradcheckError
from minidl.kernels.im2col import im2col
from minidl.ops.arithmetic import float_input
from minidl.plot import save_figure
from minidl.viz import draw_graph

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from flags import add_out, check_out_dir, parser  # noqa: E402


def heading(text):
    print(f"\n=== {text} " + "=" * max(0, 70 - len(text)))


def scalar(value, requires_grad=False):
    return minidl.tensor(value, dtype=minidl.float64, requires_grad=requires_grad)


# --------------------------------------------------------------------------------------
# 1. A tiny expression
# --------------------------------------------------------------------------------------
def neuron_loss(w, b, x=0.5, target=0.8, decay=0.1):
    """L = (tanh(w x + b) - target)^2 + decay w^2, and its named intermediate tensors."""
    z = w * x + b
    h = minidl.tanh(z)
    err = h - target
    L = err ** 2 + decay * w ** 2
    return L, {"z": z, "h": h, "err": err, "L": L}


def step_expression():
    heading("1. A tiny expression")
    w, b = scalar(-1.5, requires_grad=True), scalar(0.25, requires_grad=True)
    L, named = neuron_loss(w, b)
    print("One neuron with input x = 0.5, its squared error against 0.8, and a penalty on"
          "\nits weight:   L = (tanh(w*x + b) - 0.8)^2 + 0.1*w^2,   w = -1.5, b = 0.25")
    for name, t in named.items():
        print(f"  {name:>3} = {t.item():+.6f}   {t!r}")
    print("Every result remembers the op that made it in .grad_fn (a graph node);"
          "\nw and b are leaves: we made them ourselves, with requires_grad=True.")
    return w, b, L, {**{id(t): n for n, t in named.items()}, id(w): "w", id(b): "b"}


# --------------------------------------------------------------------------------------
# 2. The graph, as text
# --------------------------------------------------------------------------------------
def describe(t, names):
    """One line about tensor t: its name (if it has one), value, and what made it."""
    label = f"{names[id(t)]} = " if id(t) in names else ""
    value = f"{t.item():+.4f}" if t.numel() == 1 else f"shape {t.shape}"
    if t.grad_fn is not None:
        return f"{label}{value}  <- {t.grad_fn.name()}"
    kind = "leaf, requires_grad" if t.requires_grad else "constant"
    return f"{label}{value}  ({kind})"


def graph_lines(t, names, prefix="", seen=None):
    """The backward graph under t as an indented tree: each node's children are the
    inputs of the op that made it (ctx.inputs), the edges backward walks."""
    seen = set() if seen is None else seen  # a node feeding two others is expanded once
    if t.grad_fn is None or id(t) in seen:
        return []
    seen.add(id(t))
    inputs = [x for x in t.grad_fn.inputs if isinstance(x, minidl.Tensor)]
    lines = []
    for i, x in enumerate(inputs):
        last = i == len(inputs) - 1
        lines.append(prefix + ("└── " if last else "├── ") + describe(x, names))
        lines += graph_lines(x, names, prefix + ("    " if last else "│   "), seen)
    return lines


def step_graph(L, names, w, b, out):
    heading("2. The graph autograd recorded")
    print(describe(L, names))
    print("\n".join(graph_lines(L, names)))
    print("Read it bottom-up for the forward pass, top-down for backward. w appears twice"
          "\n(in w*x and in w^2): its two gradient contributions will be added.")
    draw_graph(L, path=out / "graph.png", params={"w": w, "b": b},
               title="L = (tanh(w x + b) - 0.8)^2 + 0.1 w^2")
    print(f"The same graph as a picture (minidl.viz.draw_graph): {out / 'graph.png'}")


# --------------------------------------------------------------------------------------
# 3. Backward, one node at a time
# --------------------------------------------------------------------------------------
def manual_backward(L, names):
    """Walk the graph from L to the leaves as autograd._run_backward does: visit nodes
    outputs-first, call each op's backward with dL/d(its output), and hand every input
    its share (to the node that made it, or to the leaf). Returns {leaf name: dL/dleaf}."""
    grads = {L.grad_fn: scalar(1.0)}                   # dL/dL = 1
    leaves = {}
    order = autograd._topological_order([L.grad_fn])  # the engine's own order
    with minidl.no_grad():
        for node in order:
            g = grads.pop(node)
            if isinstance(node, minidl.Tensor):        # a leaf: all its shares arrived
                leaves[id(node)] = g
                continue
            in_grads = node.function.backward(node, g)
            in_grads = in_grads if isinstance(in_grads, tuple) else (in_grads,)
            out = node._output_tensor()
            print(f"  {node.name():<13} gets dL/d({names.get(id(out), 'its output')}) = "
                  f"{g.item():+.6f}")
            for x, parent, gx in zip(node.inputs, node.parents, in_grads):
                if parent is None or gx is None:
                    continue  # constants need no gradient
                print(f"  {'':<13}   sends {gx.item():+.6f} to {describe(x, names)}")
                grads[parent] = grads[parent] + gx if parent in grads else gx
    return {names[k]: v.item() for k, v in leaves.items()}


def step_backward(w, b, L, names):
    heading("3. Backward, one node at a time")
    print("Start with dL/dL = 1. Each node multiplies the gradient of its output by its"
          "\nown local derivative (the chain rule) and passes the result to its inputs:")
    by_hand = manual_backward(L, names)
    L.backward()
    print(f"By hand:      dL/dw = {by_hand['w']:+.6f}   dL/db = {by_hand['b']:+.6f}")
    print(f"L.backward(): dL/dw = {w.grad.item():+.6f}   dL/db = {b.grad.item():+.6f}")
    same = np.isclose(by_hand["w"], w.grad.item()) and np.isclose(by_hand["b"],
                                                                  b.grad.item())
    print("The same numbers: .backward() is this loop." if same else "They DIFFER!")
    return same


# --------------------------------------------------------------------------------------
# 4. Checking gradients with finite differences
# --------------------------------------------------------------------------------------
class Swish(Function):
    # swish(x) = x s(x), s = sigmoid;   d/dx swish = s + x s (1 - s)
    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(x)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors          # a Tensor, attached to the graph
        s = minidl.sigmoid(x)           # Tensor ops: backward is differentiable too
        return g * (s + x * s * (1 - s))


def swish(x):
    """x * sigmoid(x), the same function as F.silu, as our own Function."""
    return Swish.apply(float_input(x, "swish"))


class SwishForgotProductRule(Swish):
    # a typical bug: d/dx (x s) written as s, forgetting the x s' term
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * minidl.sigmoid(x)


def step_gradcheck(w, b):
    heading("4. gradcheck: autograd against finite differences")
    print("gradcheck nudges each input by +-eps and compares (f(x+eps) - f(x-eps)) / 2eps"
          "\nwith the gradient from backward, for every input element (float64 needed).")
    ok = minidl.gradcheck(lambda w, b: neuron_loss(w, b)[0],
                          (w.detach().requires_grad_(), b.detach().requires_grad_()))
    print(f"  gradcheck(neuron_loss, (w, b)) -> {ok}")
    x = minidl.randn(5, dtype=minidl.float64, requires_grad=True)
    try:
        minidl.gradcheck(SwishForgotProductRule.apply, (x,))
        caught = False
    except GradcheckError as e:
        caught = True
        print(f"  a swish whose backward forgets the product rule fails, as it should:"
              f"\n    GradcheckError: {e}")
    return ok, caught


# --------------------------------------------------------------------------------------
# 5. A custom Function: swish
# --------------------------------------------------------------------------------------
def step_swish(out):
    heading("5. A new op: swish as a Function")
    print("Swish.forward computes on numpy arrays; Swish.backward returns the gradient"
          "\nwritten with Tensor ops, so autograd can differentiate it once more:")
    x = minidl.randn(3, 4, dtype=minidl.float64, requires_grad=True)
    first = minidl.gradcheck(swish, (x,))
    second = minidl.gradgradcheck(swish, (x,))
    print(f"  gradcheck(swish) -> {first}    gradgradcheck(swish) -> {second}")
    xs = minidl.tensor(np.linspace(-6, 6, 241), dtype=minidl.float64, requires_grad=True)
    ys = swish(xs)
    dy, = autograd.grad(ys.sum(), xs, create_graph=True)   # d/dx, itself a graph
    d2y, = autograd.grad(dy.sum(), xs)                      # d2/dx2 through backward
    same = np.allclose(ys.detach().numpy(), F.silu(xs).detach().numpy(), rtol=1e-12)
    print(f"  swish(x) equals minidl's built-in F.silu(x): {same}")
    plot_swish(*(t.detach().numpy() for t in (xs, ys, dy, d2y)), out / "swish.png")
    return first, second, same


def plot_swish(x, y, dy, d2y, path):
    """The function and both derivatives from autograd, with central differences of
    the function drawn as dots on top of the first derivative."""
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.plot(x, y, lw=2.5, label="swish(x) = x sigmoid(x)")
    ax.plot(x, dy, lw=2, label="d/dx, from Swish.backward")
    ax.plot(x, d2y, lw=2, label="d²/dx², backward of backward")
    numeric = np.gradient(y, x)
    ax.plot(x[::12], numeric[::12], "o", color="black", ms=4,
            label="finite differences of swish")
    ax.set_xlabel("x")
    ax.set_ylim(-1, 3)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    ax.set_title("A custom Function and the derivatives autograd gets from it")
    save_figure(fig, path)


# --------------------------------------------------------------------------------------
# 6. A one-layer convolution as one matrix product
# --------------------------------------------------------------------------------------
KERNEL = np.array([[1.0, 0.0, -1.0],
                   [2.0, 0.0, -2.0],
                   [1.0, 0.0, -1.0]])  # Sobel: responds to left-to-right changes


def step_conv(out):
    heading("6. A one-layer convolution, as im2col + one matrix product")
    image = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)  # pixel values = pixel numbers
    layer = nn.Conv2d(1, 1, kernel_size=3, padding=1, bias=False).double()
    with minidl.no_grad():
        layer.weight.copy_(minidl.tensor(KERNEL.reshape(1, 1, 3, 3)))
    x = minidl.tensor(image, dtype=minidl.float64, requires_grad=True)
    y = layer(x)
    print("Input: a 4x4 image whose pixel values are its pixel numbers 1..16; a 3x3 "
          "kernel,\npadding 1, so the output is 4x4 as well.")

    cols = np.empty((1, 3, 3, 1, 4, 4))                      # (C, KH, KW, N, OH, OW)
    im2col(image, (1, 1), (1, 1), (1, 1), cols)              # the engine's Numba kernel
    cols = cols.reshape(9, 16)
    print("im2col copies the 3x3 window that each output pixel sees into one column"
          "\n(9 rows = kernel taps, 16 columns = output pixels; 0 = padding):")
    print(np.array2string(cols.astype(int), max_line_width=100))
    Y = KERNEL.reshape(1, 9) @ cols                          # the whole convolution
    same = np.allclose(Y.reshape(4, 4), y.detach().numpy()[0, 0])
    print(f"Kernel as a 1x9 row @ cols = the 16 outputs; equal to nn.Conv2d: {same}")

    y.sum().backward()
    weight_grad = np.ones((1, 16)) @ cols.T                  # dL/dW = dL/dY @ cols^T
    grad_ok = np.allclose(weight_grad.reshape(3, 3), layer.weight.grad.numpy()[0, 0])
    print("Backward with L = sum of outputs: dL/dW = dL/dY @ cols^T, i.e. each kernel "
          f"tap's\ngradient is the sum of the pixels it saw. Matches autograd: {grad_ok}")
    conv_ok = minidl.gradcheck(layer, (x,))
    print(f"  gradcheck(layer, image) -> {conv_ok}")
    plot_im2col(image[0, 0], cols, y.detach().numpy()[0, 0], out / "im2col.png")
    return same and grad_ok, conv_ok


def draw_matrix(ax, values, title, cmap, vmin, vmax, shade=None):
    """An annotated heat map; cells where `shade` is True are drawn as padding."""
    image = ax.imshow(np.ma.masked_where(shade, values) if shade is not None else values,
                      cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_facecolor("0.85")
    for (i, j), v in np.ndenumerate(values):
        r, g, b, _ = image.cmap(image.norm(v))
        dark = 0.3 * r + 0.6 * g + 0.1 * b < 0.5
        color = "0.45" if shade is not None and shade[i, j] else "white" if dark else "black"
        ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=9, color=color)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def highlight(ax, row, col, height, width, color):
    ax.add_patch(Rectangle((col - 0.5, row - 0.5), width, height, fill=False,
                           edgecolor=color, lw=3))


def plot_im2col(image, cols, output, path, pick=(1, 2), color="crimson"):
    """Padded input | kernel | im2col matrix | output, with one output pixel, its
    window and its column outlined in the same colour."""
    padded = np.pad(image, 1)
    pad = np.pad(np.zeros_like(image, dtype=bool), 1, constant_values=True)
    oh, ow = pick
    column = oh * output.shape[1] + ow
    fig = Figure(figsize=(15, 4.6))
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [6, 3, 16, 4]})
    draw_matrix(axes[0], padded, "input 4x4, zero padding 1", "Blues", 0, 24, pad)
    highlight(axes[0], oh, ow, 3, 3, color)
    draw_matrix(axes[1], KERNEL, "3x3 kernel (Sobel)", "RdBu", -3, 3)
    draw_matrix(axes[2], cols, "im2col: one column per output pixel", "Blues", 0, 24,
                cols == 0)
    highlight(axes[2], 0, column, 9, 1, color)
    axes[2].set_xlabel("output pixel (row by row)")
    axes[2].set_ylabel("kernel tap (row by row)")
    limit = np.abs(output).max()
    draw_matrix(axes[3], output, "output = kernel row @ cols", "RdBu", -limit, limit)
    highlight(axes[3], oh, ow, 1, 1, color)
    terms = " + ".join(f"({k:g})({v:g})" for k, v in zip(KERNEL.ravel(), cols[:, column]))
    fig.suptitle(f"A convolution is one matrix product: output pixel {column} (row {oh}, "
                 f"column {ow}) = the kernel as a 1x9 row @ column {column} of im2col"
                 f"\n{terms} = {output[oh, ow]:g}")
    save_figure(fig, path)


# --------------------------------------------------------------------------------------
def main(argv=None):
    p = parser(pathlib.Path(__file__).name, __doc__.splitlines()[0])
    add_out(p, "runs/tour", help="folder for the figures")
    args = p.parse_args(argv)
    out = check_out_dir(args)
    minidl.manual_seed(0)

    w, b, L, names = step_expression()
    step_graph(L, names, w, b, out)
    backward_ok = step_backward(w, b, L, names)
    neuron_ok, bug_caught = step_gradcheck(w, b)
    swish_ok, swish_gradgrad_ok, swish_is_silu = step_swish(out)
    conv_matches, conv_ok = step_conv(out)
    print(f"\nFigures: {out / 'graph.png'}, {out / 'swish.png'}, {out / 'im2col.png'}")
    return {"manual_backward": backward_ok, "gradcheck_neuron": neuron_ok,
            "gradcheck_catches_bug": bug_caught, "gradcheck_swish": swish_ok,
            "gradgradcheck_swish": swish_gradgrad_ok, "swish_is_silu": swish_is_silu,
            "im2col_matches_conv": conv_matches, "gradcheck_conv": conv_ok}


if __name__ == "__main__":
    main()
