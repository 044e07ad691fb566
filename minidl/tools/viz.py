"""Seeing inside: the backward graph of a tensor, as data, as Graphviz DOT, or drawn.

Every op that records a graph leaves a `Context` on its output's `grad_fn`, and the
context keeps the op's inputs. Walking from a loss through these contexts visits
exactly what `loss.backward()` will visit:

    graph(loss)        -> Graph: nodes (ops, leaves, parameters, the output) and edges
    to_dot(loss)       -> Graphviz DOT text (paste it into any Graphviz viewer)
    draw_graph(loss)   -> a matplotlib Figure, laid out top-down, saved as PNG or SVG

Only what gradients flow through is shown: inputs that do not require grad (the data
batch, targets, constants) and non-tensor arguments (axes, strides) are left out.
Edges point the way data flows in the forward pass (input -> op); backward walks them
in reverse, from the output up to the leaves.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..nn.parameter import Parameter

__all__ = ["Node", "Graph", "graph", "to_dot", "Layout", "layout", "draw_graph"]


# --------------------------------------------------------------------------------------
# The graph as plain data.
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    id: int
    kind: str    # "op", "leaf" (a tensor you made with requires_grad), "param", "output"
    label: str   # op name ("Conv2d"), parameter name ("features.0.weight"), ...
    shape: tuple  # an op's node carries the shape of the tensor the op produced
    dtype: str

    def text(self) -> str:
        """What a picture shows: the label, and the shape below it."""
        shape = "scalar" if self.shape == () else str(self.shape).replace(" ", "")
        return f"{self.label}\n{shape}"


@dataclass
class Graph:
    nodes: list   # Node, output first; node.id is its index in this list
    edges: list   # (src id, dst id): src's value flows into dst (an op's input, or
    #               the output itself); edges point from the inputs to the output


def graph(output, params=None) -> Graph:
    """The backward graph of `output`, as lists of nodes and edges.

    params: optional {name: tensor}, e.g. dict(model.named_parameters()); tensors in it
    are labelled with their names (any leaf may be named this way). A tensor used
    twice appears once; an op using the same input twice gets one edge from it.

    Raises ValueError if `output` has no grad_fn (a leaf, or computed under no_grad
    or only from tensors that do not require grad): it has no graph to show.
    """
    if getattr(output, "grad_fn", None) is None:
        raise ValueError(
            f"graph: the tensor of shape {tuple(output.shape)} has no grad_fn, so there "
            "is no backward graph to show (it is a leaf, or it was computed under "
            "no_grad or from tensors that do not require grad)")
    names = {id(t): name for name, t in (params or {}).items()}
    nodes, edges = [], {}   # edges: a dict used as an ordered set
    node_of = {}            # id(Context) for ops, id(Tensor) for leaves -> node id

    def add(key, kind, label, tensor):
        node_of[key] = len(nodes)
        nodes.append(Node(len(nodes), kind, label, tuple(tensor.shape), str(tensor.dtype)))

    add(id(output), "output", "output", output)
    add(id(output.grad_fn), "op", output.grad_fn.function.__name__, output)
    edges[node_of[id(output.grad_fn)], 0] = None
    stack = [output]  # tensors whose op's inputs are still to be visited
    while stack:
        ctx = stack.pop().grad_fn
        for x, needs_grad in zip(ctx.inputs, ctx.needs_input_grad):
            if not needs_grad:
                continue  # constants and non-tensor arguments: no gradient flows there
            key = id(x.grad_fn) if x.grad_fn is not None else id(x)
            if key not in node_of:
                if x.grad_fn is not None:
                    add(key, "op", x.grad_fn.function.__name__, x)
                    stack.append(x)
                elif isinstance(x, Parameter):
                    add(key, "param", names.get(id(x), "Parameter"), x)
                else:
                    add(key, "leaf", names.get(id(x), "leaf"), x)
            edges[node_of[key], node_of[id(ctx)]] = None
    return Graph(nodes, list(edges))


# --------------------------------------------------------------------------------------
# Colours and shapes, shared by the DOT text and the matplotlib drawing.
# --------------------------------------------------------------------------------------
# kind: (legend name, fill colour, border colour, Graphviz shape)
STYLE = {
    "op": ("op (its output shape)", "#e3ecf7", "#4a6fa5", "box"),
    "param": ("parameter", "#d8f0d2", "#2e7d32", "ellipse"),
    "leaf": ("leaf tensor", "#fff1c1", "#b8860b", "ellipse"),
    "output": ("output", "#f7d4d8", "#b03a48", "box"),
}


def to_dot(output, params=None) -> str:
    """Graphviz DOT text of graph(output, params): one line per node and per edge.

    Render it with e.g. `dot -Tpng graph.dot -o graph.png` (Graphviz is not needed
    by minidl itself)."""
    g = graph(output, params)
    lines = ["digraph backward {",
             '  node [fontname="Helvetica", fontsize=10, style=filled];']
    for n in g.nodes:
        _, fill, border, shape = STYLE[n.kind]
        label = n.text().replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        extra = ', penwidth=2' if n.kind == "output" else ""
        lines.append(f'  n{n.id} [label="{label}", shape={shape}, fillcolor="{fill}", '
                     f'color="{border}"{extra}];')
    lines += [f"  n{src} -> n{dst};" for src, dst in g.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# Layout: layers top-down, order within a layer, then x positions.
# --------------------------------------------------------------------------------------
@dataclass
class Layout:
    centre: dict   # node id -> (x, y) of its box centre, in inches, y pointing up
    routes: dict   # (src, dst) -> [(x, y), ...] points an edge passes between its ends
    width: float
    height: float


def layout(g: Graph, sizes: dict, hgap=0.3, vgap=0.3) -> Layout:
    """Place boxes of the given sizes ({node id: (width, height)}, inches) so that no
    two overlap and every edge points downwards, from the inputs to the output.

    1. Layers: a node's layer is set by the longest path from it to the output, so
       the output is at the bottom and each node sits one layer above the first op
       that uses it (a parameter sits just above the op it feeds).
    2. An edge spanning several layers gets a thin invisible "dummy" box in each
       layer it crosses, so it is routed around the boxes there, never through.
    3. Order within each layer: start from the order inputs are passed to ops, then
       sweep up and down, sorting each layer by the mean position of its neighbours
       (the barycentre heuristic), keeping the order with the fewest edge crossings.
    4. x positions: a few rounds of two passes -- bottom-up, each box moves towards
       the mean x of what it feeds; top-down, towards the mean x of its inputs --
       keeping the order and at least hgap between boxes. Leaves and parameters
       count 1000x less than ops, so the chain of ops is drawn straight and the
       parameters are the ones that move aside.
    """
    succ = {n.id: [] for n in g.nodes}
    pred = {n.id: [] for n in g.nodes}
    for src, dst in g.edges:
        succ[src].append(dst)
        pred[dst].append(src)
    layer = _layers(succ, pred)
    width = {n: sizes[n][0] for n in succ}
    dummies, up, down = _add_dummies(g.edges, layer, width)
    layers = _order(_initial_order(up, layer), up, down)
    light = {n.id for n in g.nodes if n.kind in ("leaf", "param")}
    x = _x_positions(layers, up, down, width, light, hgap)
    return _stack_layers(g, layers, x, width, sizes, dummies, vgap)


def _add_dummies(edges, layer, width):
    """The "proper" layered graph: every edge joins adjacent layers, through a dummy
    (a thin invisible box) in each layer it crosses. Adds the dummies to layer and
    width; returns {edge: its dummies} and the up / down neighbours of every item."""
    dummies = {(src, dst): [("dummy", src, dst, k)
                            for k in range(layer[src] + 1, layer[dst])]
               for src, dst in edges}
    up = {n: [] for n in width}
    down = {n: [] for n in width}
    for (src, dst), between in dummies.items():
        for d in between:
            up[d], down[d], width[d], layer[d] = [], [], 0.05, d[3]
        chain = [src] + between + [dst]
        for a, b in zip(chain, chain[1:]):
            up[b].append(a)
            down[a].append(b)
    return dummies, up, down


def _x_positions(layers, up, down, width, light, hgap) -> dict:
    """Step 4 of layout: x of every item, in rounds of a bottom-up and a top-down pass.
    Items in `light` (leaves, parameters) weigh 1000x less, so they move aside."""
    def mass(item):
        return 1e-3 if item in light else 1.0

    def place(items, neighbours):  # each item towards the mean x of its neighbours
        targets = []
        for i in items:
            pulls = [(mass(j), x[j]) for j in neighbours(i)] or [(1.0, x[i])]
            targets.append(sum(m * xj for m, xj in pulls) / sum(m for m, _ in pulls))
        x.update(zip(items, _pack(targets, [width[i] for i in items],
                                  [mass(i) for i in items], hgap)))

    x = {i: 0.0 for i in width}
    for _ in range(4):  # a few rounds settle it
        for items in layers[::-1]:  # bottom-up: each item above the ops it feeds
            place(items, lambda i: down[i])
        for items in layers[1:]:    # top-down: each op below its inputs
            place(items, lambda i: up[i])
    return x


def _stack_layers(g, layers, x, width, sizes, dummies, vgap) -> Layout:
    """y: each layer as tall as its tallest box, layers vgap apart, the first on top;
    edges through dummies pass the top and bottom of each dummy's layer."""
    heights = [max((sizes[i][1] for i in items if not isinstance(i, tuple)), default=0.0)
               for items in layers]
    total_height = sum(heights) + vgap * (len(layers) - 1)
    left = min(x[i] - width[i] / 2 for i in x)
    right = max(x[i] + width[i] / 2 for i in x)
    centre, band = {}, {}
    top = total_height
    for items, h in zip(layers, heights):
        for i in items:
            centre[i] = (x[i] - left, top - h / 2)
            band[i] = (top, top - h)
        top -= h + vgap
    routes = {e: [(centre[d][0], y) for d in between for y in band[d]]
              for e, between in dummies.items()}
    return Layout({n.id: centre[n.id] for n in g.nodes}, routes, right - left,
                  total_height)


def _layers(succ, pred):
    """Layer 0 at the top: layer(n) = (longest path of the graph) - (longest path n ->
    output). Nodes are visited once all their successors are (Kahn's algorithm)."""
    waiting = {n: len(s) for n, s in succ.items()}
    ready = [n for n, k in waiting.items() if k == 0]
    to_output = {}
    while ready:
        n = ready.pop()
        to_output[n] = 1 + max((to_output[s] for s in succ[n]), default=-1)
        for p in pred[n]:
            waiting[p] -= 1
            if waiting[p] == 0:
                ready.append(p)
    deepest = max(to_output.values())
    return {n: deepest - d for n, d in to_output.items()}


def _initial_order(up, layer):
    """Layers from the bottom up: each item's inputs, in the order the op takes them.
    (Every item has a neighbour in the layer below, so this reaches all of them.)"""
    layers = [[] for _ in range(max(layer.values()) + 1)]
    layers[-1] = [n for n in up if layer[n] == len(layers) - 1]
    for k in range(len(layers) - 1, 0, -1):
        for item in layers[k]:
            for a in up[item]:
                if a not in layers[k - 1]:
                    layers[k - 1].append(a)
    return layers


def _order(layers, up, down, sweeps=4):
    """Barycentre sweeps; returns the ordering with the fewest crossings seen."""
    best, fewest = [list(items) for items in layers], _crossings(layers, down)
    for _ in range(sweeps):
        for k in range(1, len(layers)):            # top-down: follow the layer above
            _sort_by_barycentre(layers[k], layers[k - 1], up)
        for k in range(len(layers) - 2, -1, -1):   # bottom-up: follow the layer below
            _sort_by_barycentre(layers[k], layers[k + 1], down)
        crossings = _crossings(layers, down)
        if crossings < fewest:
            best, fewest = [list(items) for items in layers], crossings
    return best


def _sort_by_barycentre(items, fixed, neighbours):
    """Sort items (in place) by the mean position of their neighbours in `fixed`;
    an item with no neighbours there keeps its own position as its key."""
    position = {item: i for i, item in enumerate(fixed)}

    def key(i):
        linked = [position[n] for n in neighbours[items[i]]]
        return sum(linked) / len(linked) if linked else i

    items[:] = [items[i] for i in sorted(range(len(items)), key=key)]


def _crossings(layers, down):
    """How many pairs of edges cross between adjacent layers."""
    count = 0
    for upper, lower in zip(layers, layers[1:]):
        position = {item: i for i, item in enumerate(lower)}
        ends = [(i, position[b]) for i, a in enumerate(upper) for b in down[a]]
        count += sum(1 for k, (a1, b1) in enumerate(ends) for a2, b2 in ends[k + 1:]
                     if (a1 - a2) * (b1 - b2) < 0)
    return count


def _pack(targets, widths, weights, gap):
    """x centres for boxes kept in this left-to-right order, at least `gap` apart,
    as close as possible to `targets` (least squares, weighted by `weights`).

    Write x_i = y_i + offset_i, where offset_i is the room the boxes before i need:
    the constraints become y_0 <= y_1 <= ..., and the best non-decreasing y is found
    by pooling adjacent violators: merge neighbouring blocks into their weighted
    mean while a block lies left of the one before it."""
    offsets = [0.0]
    for a, b in zip(widths, widths[1:]):
        offsets.append(offsets[-1] + (a + b) / 2 + gap)
    blocks = []  # [mean y, total weight, number of boxes]
    for t, o, w in zip(targets, offsets, weights):
        blocks.append([t - o, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            y2, w2, n2 = blocks.pop()
            y1, w1, n1 = blocks.pop()
            blocks.append([(y1 * w1 + y2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    ys = [y for y, _, n in blocks for _ in range(n)]
    return [y + o for y, o in zip(ys, offsets)]


# --------------------------------------------------------------------------------------
# Drawing with matplotlib.
# --------------------------------------------------------------------------------------
def draw_graph(output, path=None, params=None, title=None, fontsize=8):
    """Draw the backward graph of `output` top-down: ops as boxes (name, output shape),
    parameters and leaves as rounded pills, the output at the bottom, arrows from
    each input to the op that uses it. Saves to `path` (PNG, SVG or PDF, by suffix)
    atomically when given, and returns the matplotlib Figure.

        loss = F.cross_entropy(model(x), y)
        draw_graph(loss, "graph.png", params=dict(model.named_parameters()))

    The figure is sized from the graph (about 0.7 inch per layer), so text never
    overlaps however big the graph is; a long graph gives a tall picture.
    """
    # matplotlib is imported here, not at the top, so that `import minidl` stays fast.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from .plot import save_figure

    g = graph(output, params)
    fig = Figure()
    FigureCanvasAgg(fig)  # an off-screen canvas: measures text, needs no display
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    drawn = {n.id: _draw_node(ax, n, fontsize) for n in g.nodes}
    sizes = {i: size for i, (size, _) in drawn.items()}
    pos = layout(g, sizes)
    for i, (_, place) in drawn.items():
        place(*pos.centre[i])
    _draw_edges(ax, g, pos, sizes)

    legend = ax.legend(
        handles=[Patch(facecolor=fill, edgecolor=border, label=name)
                 for kind, (name, fill, border, _) in STYLE.items()
                 if any(n.kind == kind for n in g.nodes)],
        loc="upper center", ncol=2, frameon=False, fontsize=fontsize, borderaxespad=0)
    legend_w, legend_h = legend.get_window_extent(fig.canvas.get_renderer()).size / fig.dpi
    heading = ax.text(0, 0, title or "", ha="center", va="top", fontsize=fontsize + 3,
                      weight="bold")
    title_w = heading.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi
    title_h, margin = (0.3 if title else 0.0), 0.25
    top = pos.height + 0.2 + legend_h + title_h  # title and legend sit above the graph
    half = max(pos.width, legend_w, title_w) / 2 + margin
    fig.set_size_inches(2 * half, top + 2 * margin)
    # Axes units are inches, so every box is drawn at the size the layout was given.
    ax.set_xlim(pos.width / 2 - half, pos.width / 2 + half)
    ax.set_ylim(-margin, top + margin)
    heading.set_position((pos.width / 2, top))
    legend.set_bbox_to_anchor((pos.width / 2, top - title_h), transform=ax.transData)
    if path is not None:
        save_figure(fig, path)
    return fig


def _draw_node(ax, node, fontsize):
    """Add a node's box and its two text lines (label; shape, smaller and grey).
    Returns ((width, height) in inches, place(x, y)) -- the box is put in place
    once the layout is known."""
    from matplotlib.patches import FancyBboxPatch

    label_text, shape_text = node.text().split("\n")
    _, fill, border, _ = STYLE[node.kind]
    label = ax.text(0, 0, label_text, ha="center", va="baseline", fontsize=fontsize,
                    weight="bold" if node.kind == "output" else "normal", zorder=3)
    shape = ax.text(0, 0, shape_text, ha="center", va="top", fontsize=fontsize - 1,
                    color="#444444", zorder=3)
    renderer = ax.figure.canvas.get_renderer()
    dpi = ax.figure.dpi
    text_w = max(t.get_window_extent(renderer).width for t in (label, shape)) / dpi
    pad = 0.5 * fontsize / 72  # inches
    line_h = 1.15 * fontsize / 72
    h = 2 * line_h + 2 * pad
    w = text_w + 2 * pad + (h if node.kind in ("param", "leaf") else 0)  # room for ends
    rounding = h / 2 if node.kind in ("param", "leaf") else 0.03
    box = FancyBboxPatch((0, 0), w, h, boxstyle=f"round,pad=0,rounding_size={rounding}",
                         facecolor=fill, edgecolor=border, zorder=2,
                         linewidth=2.0 if node.kind == "output" else 1.0)
    ax.add_patch(box)

    def place(x, y):
        box.set_x(x - w / 2)
        box.set_y(y - h / 2)
        label.set_position((x, y + 0.1 * line_h))
        shape.set_position((x, y - 0.05 * line_h))

    return (w, h), place


def _draw_edges(ax, g, pos, sizes):
    """Arrows from the bottom of each input's box to the top of the op's box. Arrows
    meet a box off-centre when they come from the side, so they do not bunch up."""
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    def ports(edges, far_x, node):
        """Where edges meet node's box: x offsets from its centre, each leaning towards
        the edge's other end, in order, apart, and within the box's middle 90%; an
        edge going straight down stays at the centre."""
        if not edges:
            return {}
        edges = sorted(edges, key=far_x.get)
        x, half = pos.centre[node][0], 0.45 * sizes[node][0]
        lean = [max(-half / 2, min(half / 2, 0.3 * (far_x[e] - x))) for e in edges]
        gap = min(0.12, 2 * half / max(len(edges) - 1, 1))
        straight = [100.0 if abs(far_x[e] - x) < 0.05 else 1.0 for e in edges]
        offsets = _pack(lean, [0.0] * len(edges), straight, gap)  # (those stay put)
        shift = min(0.0, half - offsets[-1]) + max(0.0, -half - offsets[0])  # back inside
        return dict(zip(edges, (o + shift for o in offsets)))

    below = {e: (pos.routes[e] or [pos.centre[e[1]]])[0][0] for e in g.edges}
    above = {e: (pos.routes[e] or [pos.centre[e[0]]])[-1][0] for e in g.edges}
    start, end = {}, {}
    for n in g.nodes:
        start.update(ports([e for e in g.edges if e[0] == n.id], below, n.id))
        end.update(ports([e for e in g.edges if e[1] == n.id], above, n.id))
    for e in g.edges:
        (xs, ys), (xd, yd) = pos.centre[e[0]], pos.centre[e[1]]
        points = ([(xs + start[e], ys - sizes[e[0]][1] / 2)] + pos.routes[e]
                  + [(xd + end[e], yd + sizes[e[1]][1] / 2)])
        ax.add_patch(FancyArrowPatch(path=Path(points), arrowstyle="-|>",
                                     mutation_scale=9, color="#555555", linewidth=0.9,
                                     zorder=1))
