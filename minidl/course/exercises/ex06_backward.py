"""Exercise 6: the backward walk -- topological order and accumulation.

minidl's backward (minidl/autograd.py) is:
    order = topological_order(roots)         # each node before the nodes it was
                                             # computed from
    for node in order: g = grads[node]; call node's backward; for each parent p:
        accumulate(grads, p, gradient for p)
A node (a graph Context, or a leaf Tensor) must be visited only after EVERY node that
used its output has sent its gradient: in y = x*x + exp(x), x's node gets two
contributions and must wait for both.

Write the two pieces; the checker swaps them into minidl's engine:
    topological_order(roots) -> list of every node reachable from `roots` (through
        parents(node)), each exactly once, each before all of its parents;
    accumulate(grads, node, g): add g to the gradient waiting at node (a dict).

The check: the order's properties on random graphs drawn by hypothesis (complete, no
repeats, every node before its parents), then, with your pieces inside the engine,
gradients of graphs that reuse values (diamonds, chains, x*x) against minidl's own
walk, and gradcheck of a composite function.

Hint: count each node's consumers first (how many nodes list it as a parent); a node
is ready when that count has dropped to zero (Kahn's algorithm). A plain depth-first
pre-order visits a shared node too early.
"""
from minidl.autograd import _parents as parents  # noqa: F401  parents(node) -> list


def topological_order(roots):
    """roots: list of nodes -> list of nodes, each before its parents."""
    raise NotImplementedError


def accumulate(grads, node, g):
    """grads: {node: Tensor}. Add g to grads[node] (or start it)."""
    raise NotImplementedError
