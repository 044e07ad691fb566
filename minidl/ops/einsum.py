"""einsum: sums of products named by index letters, e.g. "bij,bjk->bik" (batched
matrix product), "ii->" (trace), "i,j->ij" (outer product).

It is built from ops that autograd already differentiates -- diagonal, sum,
permute, reshape, expand and matmul -- so its first and second derivatives come
for free. The plan, for operands taken left to right:
  1. a letter repeated within one operand ("ii") takes that operand's diagonal;
  2. a letter no other operand and not the output uses is summed out at once;
  3. two operands are contracted with one batched matrix product: their letters
     split into batch letters (shared, still needed later), contracted ones
     (shared, needed no more), and letters of only one side;
  4. the result is permuted into the output's order.
"..." stands for the dims without letters; they broadcast like numpy's.
"""
from __future__ import annotations

import numpy as np

from ..tensor import ShapeError
from .arithmetic import unary_input
from ..errors import ArgumentError
from .matmul import matmul
from .movement import diagonal
from .reduction import sum, expand
from .shape import permute, reshape


# ------------------------------------------------------------------ the equation
def _parse(equation, operands):
    """Letters of each operand and of the output, as lists of labels: a letter is
    itself, the k-th dim counted from the right of "..." is the int k."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ArgumentError(f"einsum: the equation {equation!r} has {len(terms)} "
                            f"operand(s) but {len(operands)} tensor(s) were given")
    inputs = [_labels(term, x.ndim, i, equation)
              for i, (term, x) in enumerate(zip(terms, operands))]
    n_ellipsis = max(len([c for c in labels if isinstance(c, int)]) for labels in inputs)
    if arrow:
        output = _labels(rhs, None, None, equation, n_ellipsis)
    else:  # implicit: "..." first, then the letters used once, in alphabetical order
        letters = [c for labels in inputs for c in labels if isinstance(c, str)]
        output = list(range(n_ellipsis - 1, -1, -1)) + sorted(
            c for c in set(letters) if letters.count(c) == 1)
    _check_output(output, inputs, equation)
    return inputs, output


def _labels(term, ndim, i, equation, n_ellipsis=None):
    if term.count("...") > 1 or not all(c.isalpha() or c == "." for c in term) or (
            term.replace("...", "").count(".")):
        raise ArgumentError(f"einsum: invalid subscripts {term!r} in {equation!r}; use "
                            "letters and at most one '...'")
    head, dots, tail = term.partition("...")
    if ndim is None:  # the output: "..." stands for all the ellipsis dims
        n = n_ellipsis if dots else 0
    else:
        n = ndim - len(head) - len(tail)
        if n < 0 or (n > 0 and not dots):
            raise ShapeError(f"einsum: operand {i} has {ndim} dims but its subscripts "
                             f"{term!r} name {len(head) + len(tail)} (in {equation!r})")
    return list(head) + list(range(n - 1, -1, -1)) + list(tail)


def _check_output(output, inputs, equation):
    used = {c for labels in inputs for c in labels}
    for c in output:
        if output.count(c) > 1:
            raise ArgumentError(f"einsum: output subscript {c!r} appears more than once "
                                f"in {equation!r}")
        if c not in used:
            raise ArgumentError(f"einsum: output subscript {c!r} is not in any input of "
                                f"{equation!r}")


def _sizes(inputs, operands, equation):
    """The size of each label: equal wherever it appears, or 1 (which broadcasts)."""
    sizes = {}
    for labels, x in zip(inputs, operands):
        for c, n in zip(labels, x.shape):
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise ShapeError(f"einsum: subscript {c!r} has size {n} in a tensor of "
                                 f"shape {x.shape}, which does not broadcast with size "
                                 f"{sizes[c]} (in {equation!r})")
            sizes[c] = n if n != 1 else sizes.get(c, 1)
    return sizes


# ------------------------------------------------------------------ the computation
def _take_diagonals(x, labels):
    """Step 1: for a label seen twice, keep the diagonal (it goes last)."""
    labels = list(labels)
    for c in list(dict.fromkeys(labels)):
        while labels.count(c) > 1:
            i = labels.index(c)
            j = labels.index(c, i + 1)
            x = diagonal(x, 0, i, j)
            labels = [d for k, d in enumerate(labels) if k not in (i, j)] + [c]
    return x, labels


def _sum_unneeded(x, labels, needed):
    """Step 2: sum out the labels nothing after this point uses."""
    dims = [i for i, c in enumerate(labels) if c not in needed]
    if dims:
        x = sum(x, tuple(dims))
        labels = [c for c in labels if c in needed]
    return x, labels


def _arrange(x, labels, order, sizes):
    """x with its dims permuted into `order` (labels x has) and broadcast to sizes."""
    x = permute(x, tuple(labels.index(c) for c in order))
    return expand(x, tuple(sizes[c] for c in order))


def _contract(a, la, b, lb, needed, sizes):
    """Step 3: one batched matrix product of a (labels la) and b (labels lb)."""
    batch = [c for c in la if c in lb and c in needed]
    summed = [c for c in la if c in lb and c not in needed]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]

    def size(group):
        return int(np.prod([sizes[c] for c in group]))

    a = reshape(_arrange(a, la, batch + left + summed, sizes),
                (size(batch), size(left), size(summed)))
    b = reshape(_arrange(b, lb, batch + summed + right, sizes),
                (size(batch), size(summed), size(right)))
    out = reshape(matmul(a, b), tuple(sizes[c] for c in batch + left + right))
    return out, batch + left + right


def _from_sublists(args):
    """(equation, operands) for the sublist form einsum(a, [0, 1], b, [1, 2], [0, 2]):
    0-25 stand for A-Z and 26-51 for a-z, Ellipsis for "..."."""
    def letters(sublist):
        for s in sublist:
            if s is not Ellipsis and not (isinstance(s, int) and 0 <= s < 52):
                raise ArgumentError(f"einsum: subscript {s!r} in a sublist must be "
                                    "Ellipsis or an int in [0, 52)")
        return "".join("..." if s is Ellipsis else chr(s + (65 if s < 26 else 71))
                       for s in sublist)
    operands, terms = list(args[0:-1:2]), [letters(s) for s in args[1::2]]
    if len(args) % 2:  # a trailing output sublist
        return ",".join(terms) + "->" + letters(args[-1]), operands
    return ",".join(terms), operands


def einsum(equation, *operands):
    """Sum of products over the index letters of `equation`, as torch.einsum:
    einsum("ij,jk->ik", a, b) is a @ b. Operands may also come as one list, or in
    PyTorch's sublist form einsum(a, [0, 1], b, [1, 2], [0, 2])."""
    if not isinstance(equation, str):
        equation, operands = _from_sublists((equation,) + operands)
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = [unary_input(x, "einsum") for x in operands]
    if not operands:
        raise ArgumentError("einsum: expected at least one operand")
    if any(x.dtype != operands[0].dtype for x in operands):
        raise ArgumentError(f"einsum: all operands need one dtype, got "
                            f"{[str(x.dtype) for x in operands]}")
    inputs, output = _parse(equation, operands)
    sizes = _sizes(inputs, operands, equation)
    result, labels = None, None
    for k, (x, lx) in enumerate(zip(operands, inputs)):
        needed = set(output).union(*inputs[k + 1:])
        x, lx = _take_diagonals(x, lx)
        x, lx = _sum_unneeded(x, lx, needed | set(labels or ()))
        if result is None:
            result, labels = x, lx
        else:
            result, labels = _sum_unneeded(result, labels, needed | set(lx))
            result, labels = _contract(result, labels, x, lx, needed, sizes)
    result, labels = _sum_unneeded(result, labels, set(output))
    return _arrange(result, labels, output, sizes)


__all__ = ["einsum"]
