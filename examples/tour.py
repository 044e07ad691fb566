"""A guided tour of the engine, in six steps, for a student reading minidl.

    python examples/tour.py [--out runs/tour]

1. build a tiny expression (one neuron, its squared error and a weight penalty),
   naming every intermediate result;
2. print the graph that autograd recorded for it, in the order forward computed it;
3. run backward by hand, one node at a time, exactly as minidl/autograd.py does,
   printing each node's local derivative and what it passes on (the chain rule);
4. check those gradients with finite differences (minidl.gradcheck);
5. write a new op, swish(x) = x * sigmoid(x), as a Function; check its first and
   second derivatives, and watch gradcheck catch a swish with a wrong derivative;
6. a one-layer convolution on a 4x4 image, computed as one matrix product through
   im2col (minidl/kernels/im2col.py).

Each step prints what it shows. Three figures go to --out: graph.png (the graph of
step 2), swish.png (the new op and its derivatives) and im2col.png (the convolution as
a matrix product). Runs in a few
seconds; everything is float64 and deterministic.
"""
import pathlib

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
from minidl.tools.plot import save_figure
from minidl.tools.viz import draw_graph

from flags import add_out, check_out_dir, parser


def heading(text):
    print(f"\n=== {text} " + "=" * max(0, 70 - len(text)))


def scalar(value, requires_grad=False):
    return minidl.tensor(value, dtype=minidl.float64, requires_grad=requires_grad)


# --------------------------------------------------------------------------------------
# 1. A tiny expression
# --------------------------------------------------------------------------------------
# Every node of the expression: its formula, and its local derivative with respect to
# each input that needs a gradient (the constants 0.5, 0.8, 2 and 0.1 need none).
FORMULAS = {
    "wx": ("w * x", {"w": "x"}),
    "z": ("wx + b", {"wx": "1", "b": "1"}),
    "h": ("tanh(z)", {"z": "1 - h^2"}),
    "err": ("h - 0.8", {"h": "1"}),
    "sq": ("err^2", {"err": "2 err"}),
    "w2": ("w^2", {"w": "2 w"}),
    "pen": ("0.1 * w2", {"w2": "0.1"}),
    "L": ("sq + pen", {"sq": "1", "pen": "1"}),
}


def neuron_loss(w, b, x=0.5, target=0.8, decay=0.1):
    """L = (tanh(w x + b) - target)^2 + decay w^2, and every intermediate tensor by
    name, in the order they are computed (the keys of FORMULAS)."""
    wx = w * x
    z = wx + b
    h = minidl.tanh(z)
    err = h - target
    sq = err ** 2
    w2 = w ** 2
    pen = decay * w2
    L = sq + pen
    return L, {"wx": wx, "z": z, "h": h, "err": err, "sq": sq, "w2": w2, "pen": pen,
               "L": L}


def step_expression():
    heading("1. A tiny expression")
    w, b = scalar(-1.5, requires_grad=True), scalar(0.25, requires_grad=True)
    L, named = neuron_loss(w, b)
    print("One neuron with input x = 0.5, its squared error against 0.8, and a penalty on"
          "\nits weight:   L = (tanh(w*x + b) - 0.8)^2 + 0.1*w^2,   w = -1.5, b = 0.25")
    for name, t in named.items():
        print(f"  {name:>3} = {FORMULAS[name][0]:<9} = {t.item():+.6f}   {t!r}")
    print("Every result remembers the op that made it in .grad_fn (a graph node);"
          "\nw and b are leaves: we made them ourselves, with requires_grad=True.")
    return w, b, L, {**{id(t): n for n, t in named.items()}, id(w): "w", id(b): "b"}


# --------------------------------------------------------------------------------------
# 2. The graph, as text
# --------------------------------------------------------------------------------------
def describe(t, names):
    """A tensor as the graph sees it: its name, or its value if it is a constant."""
    return names.get(id(t), f"{t.item():g}")


def graph_lines(L, names):
    """One line per node, inputs before the nodes computed from them (the order
    forward ran), each with the op that made it and the tensors it read
    (grad_fn.inputs: the edges backward walks in reverse)."""
    lines, done = [], set()

    def visit(t):
        if id(t) in done or not t.requires_grad:
            return  # constants are not nodes
        done.add(id(t))
        if t.grad_fn is None:
            lines.append(f"  {names[id(t)]:>3} = {t.item():+.4f}   leaf (requires_grad)")
            return
        inputs = [x for x in t.grad_fn.inputs if isinstance(x, minidl.Tensor)]
        for x in inputs:
            visit(x)
        inputs = ", ".join(describe(x, names) for x in inputs)
        lines.append(f"  {names[id(t)]:>3} = {t.item():+.4f}   {t.grad_fn.name():<13}"
                     f"<- {inputs}")

    visit(L)
    return lines


def step_graph(L, names, w, b, out):
    heading("2. The graph autograd recorded")
    print("One line per node, in the order forward computed them; '<-' names what each"
          "\nnode was computed from (backward follows these arrows the other way):")
    print("\n".join(graph_lines(L, names)))
    print("The numbers after '<-' (0.5, 0.8, 2, 0.1) are constants: no gradient flows to"
          "\nthem, so they are not nodes. w feeds two nodes (wx and w2): its two gradient"
          "\ncontributions will be added.")
    draw_graph(L, path=out / "graph.png", params={"w": w, "b": b},
               title="L = (tanh(w x + b) - 0.8)^2 + 0.1 w^2")
    print(f"The same graph as a picture (minidl.viz.draw_graph): {out / 'graph.png'};"
          "\nit too runs forward from top to bottom and leaves the constants out.")


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
            name = names[id(node._output_tensor())]
            print(f"  {node.name()} for {name} = {FORMULAS[name][0]}, with dL/d{name} "
                  f"= {g.item():+.6f}; local derivatives:")
            local = as_tuple(node.function.backward(node, scalar(1.0)))  # d name/d input
            shares = as_tuple(node.function.backward(node, g))           # g * local
            for x, parent, d, gx in zip(node.inputs, node.parents, local, shares):
                if parent is None or gx is None:
                    continue  # constants need no gradient
                i = describe(x, names)
                print(f"      d{name}/d{i} = {FORMULAS[name][1][i]} = {d.item():+.6f}, so "
                      f"{i} gets {g.item():+.6f} * {d.item():+.6f} = {gx.item():+.6f}")
                grads[parent] = grads[parent] + gx if parent in grads else gx
    return {names[k]: v.item() for k, v in leaves.items()}


def as_tuple(grads):
    return grads if isinstance(grads, tuple) else (grads,)


def step_backward(w, b, L, names):
    heading("3. Backward, one node at a time")
    print("Start with dL/dL = 1. Each node multiplies the gradient of its output by its"
          "\nown local derivative (the chain rule) and passes the result to its inputs:")
    by_hand = manual_backward(L, names)
    L.backward()
    print("w got two shares (from wx and from w2); the engine adds them, as it adds"
          "\neverything that arrives at one node.")
    print(f"By hand:      dL/dw = {by_hand['w']:+.6f}   dL/db = {by_hand['b']:+.6f}")
    print(f"L.backward(): dL/dw = {w.grad.item():+.6f}   dL/db = {b.grad.item():+.6f}")
    same = np.isclose(by_hand["w"], w.grad.item()) and np.isclose(by_hand["b"],
                                                                  b.grad.item())
    print("The same numbers: .backward() is this loop." if same else "They DIFFER!")
    return same


# --------------------------------------------------------------------------------------
# 4. Checking gradients with finite differences
# --------------------------------------------------------------------------------------
def step_gradcheck(w, b):
    heading("4. gradcheck: autograd against finite differences")
    print("gradcheck nudges each input by +-eps and compares (f(x+eps) - f(x-eps)) / 2eps"
          "\nwith the gradient from backward, for every input element (float64 needed).")
    ok = minidl.gradcheck(lambda w, b: neuron_loss(w, b)[0],
                          (w.detach().requires_grad_(), b.detach().requires_grad_()))
    print(f"  gradcheck(neuron_loss, (w, b)) -> {ok}")
    return ok


# --------------------------------------------------------------------------------------
# 5. A new op: swish(x) = x * sigmoid(x), as a Function
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


def step_swish(out):
    heading("5. A new op: swish(x) = x * sigmoid(x), as a Function")
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
    return first, second, same, catch_wrong_swish()


def catch_wrong_swish():
    """gradcheck on a swish whose backward forgets the product rule: it must fail."""
    x = minidl.randn(5, dtype=minidl.float64, requires_grad=True)
    try:
        minidl.gradcheck(SwishForgotProductRule.apply, (x,))
        return False
    except GradcheckError as e:
        print(f"  a swish whose backward forgets the product rule (d/dx = s) fails, as it "
              f"should:\n    GradcheckError: {e}")
        return True


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

    stride, padding, dilation = (1, 1), (1, 1), (1, 1)      # each: (along H, along W)
    cols = np.empty((1, 3, 3, 1, 4, 4))                      # (C, KH, KW, N, OH, OW)
    im2col(image, stride, padding, dilation, cols)           # the engine's Numba kernel
    cols = cols.reshape(9, 16)
    print("im2col(image, stride=(1, 1), padding=(1, 1), dilation=(1, 1), cols): the three"
          "\npairs are (along H, along W): the step between windows, the zeros added on"
          "\neach side, and the spacing of the kernel's taps (1 = adjacent pixels). It"
          "\ncopies the 3x3 window that each output pixel sees into one column"
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
    neuron_ok = step_gradcheck(w, b)
    swish_ok, swish_gradgrad_ok, swish_is_silu, bug_caught = step_swish(out)
    conv_matches, conv_ok = step_conv(out)
    print(f"\nFigures: {out / 'graph.png'}, {out / 'swish.png'}, {out / 'im2col.png'}")
    return {"manual_backward": backward_ok, "gradcheck_neuron": neuron_ok,
            "gradcheck_catches_bug": bug_caught, "gradcheck_swish": swish_ok,
            "gradgradcheck_swish": swish_gradgrad_ok, "swish_is_silu": swish_is_silu,
            "im2col_matches_conv": conv_matches, "gradcheck_conv": conv_ok}


if __name__ == "__main__":
    main()
