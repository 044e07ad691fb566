"""Sorting and selection loops that order tied values exactly as PyTorch's CPU does.

Sorting leaves the order of equal values open, and which of two tied elements comes
first decides which one receives the gradient. PyTorch's CPU kernels use GCC's C++
standard library: `std::sort` (introsort: quicksort with a median-of-three pivot,
heapsort when it recurses too deep, insertion sort for the last 16 elements) for
sort(stable=False), and `std::nth_element` (the same partitioning, "introselect")
followed by `std::sort`, or `std::partial_sort` (a heap), for topk; kthvalue uses
the quickselect of Sedgewick (1978). The loops below follow those algorithms step
by step, so they make the same choices among ties.

Every loop works on one row: `keys` (the values, NaN allowed) and `idx` (their
positions), permuted together in place. `before(a, b, desc)` is the order used:
ascending with NaN last, or descending (desc=True) with NaN first.
"""
import numpy as np
from .compile import kernel


@kernel
def before(a, b, desc):
    if desc:
        return (a != a and b == b) or a > b
    return (a == a and b != b) or a < b


@kernel
def swap(keys, idx, i, j):
    keys[i], keys[j] = keys[j], keys[i]
    idx[i], idx[j] = idx[j], idx[i]


# ------------------------------------------------------------------ insertion sort
@kernel
def linear_insert(keys, idx, i, desc):
    """Move element i left past the elements it comes before (one stops it)."""
    key, pos = keys[i], idx[i]
    while before(key, keys[i - 1], desc):
        keys[i], idx[i] = keys[i - 1], idx[i - 1]
        i -= 1
    keys[i], idx[i] = key, pos


@kernel
def insertion_sort(keys, idx, first, last, desc):
    for i in range(first + 1, last):
        if before(keys[i], keys[first], desc):  # goes to the front
            key, pos = keys[i], idx[i]
            for j in range(i, first, -1):
                keys[j], idx[j] = keys[j - 1], idx[j - 1]
            keys[first], idx[first] = key, pos
        else:
            linear_insert(keys, idx, i, desc)


# ------------------------------------------------------------------ quicksort partition
@kernel
def median_to_first(keys, idx, result, a, b, c, desc):
    """Swap the median of elements a, b, c into position result."""
    if before(keys[a], keys[b], desc):
        if before(keys[b], keys[c], desc):
            swap(keys, idx, result, b)
        elif before(keys[a], keys[c], desc):
            swap(keys, idx, result, c)
        else:
            swap(keys, idx, result, a)
    elif before(keys[a], keys[c], desc):
        swap(keys, idx, result, a)
    elif before(keys[b], keys[c], desc):
        swap(keys, idx, result, c)
    else:
        swap(keys, idx, result, b)


@kernel
def partition(keys, idx, first, last, desc):
    """Pivot = median of (first + 1, middle, last - 1), moved to first; then Hoare's
    partition of [first + 1, last) around it. Returns the cut."""
    median_to_first(keys, idx, first, first + 1, first + (last - first) // 2, last - 1,
                    desc)
    lo, hi = first + 1, last
    while True:
        while before(keys[lo], keys[first], desc):
            lo += 1
        hi -= 1
        while before(keys[first], keys[hi], desc):
            hi -= 1
        if not lo < hi:
            return lo
        swap(keys, idx, lo, hi)
        lo += 1


# ------------------------------------------------------------------ heaps
@kernel
def sift_up(keys, idx, base, hole, top, key, pos, desc):
    parent = (hole - 1) // 2
    while hole > top and before(keys[base + parent], key, desc):
        keys[base + hole], idx[base + hole] = keys[base + parent], idx[base + parent]
        hole = parent
        parent = (hole - 1) // 2
    keys[base + hole], idx[base + hole] = key, pos


@kernel
def adjust_heap(keys, idx, base, hole, length, key, pos, desc):
    """Put (key, pos) into the heap at base[0:length] with a hole at `hole`: move the
    hole down to a leaf along the larger children, then sift the value up."""
    top, child = hole, hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if before(keys[base + child], keys[base + child - 1], desc):
            child -= 1
        keys[base + hole], idx[base + hole] = keys[base + child], idx[base + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        keys[base + hole], idx[base + hole] = keys[base + child - 1], idx[base + child - 1]
        hole = child - 1
    sift_up(keys, idx, base, hole, top, key, pos, desc)


@kernel
def make_heap(keys, idx, first, last, desc):
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        adjust_heap(keys, idx, first, parent, length, keys[first + parent],
                    idx[first + parent], desc)
        if parent == 0:
            return
        parent -= 1


@kernel
def pop_heap(keys, idx, first, last, result, desc):
    """Move the heap's top to `result` and the value at `result` into the heap."""
    key, pos = keys[result], idx[result]
    keys[result], idx[result] = keys[first], idx[first]
    adjust_heap(keys, idx, first, 0, last - first, key, pos, desc)


@kernel
def heap_select(keys, idx, first, middle, last, desc):
    """Leave the (middle - first) first elements of the order in [first, middle), as
    a heap."""
    make_heap(keys, idx, first, middle, desc)
    for i in range(middle, last):
        if before(keys[i], keys[first], desc):
            pop_heap(keys, idx, first, middle, i, desc)


@kernel
def partial_sort(keys, idx, first, middle, last, desc):
    """std::partial_sort: the first (middle - first) elements of the order, sorted."""
    heap_select(keys, idx, first, middle, last, desc)
    while middle - first > 1:
        middle -= 1
        pop_heap(keys, idx, first, middle, middle, desc)


# ------------------------------------------------------------------ sort and select
@kernel
def log2_floor(n):
    k = 0
    while n > 1:
        n >>= 1
        k += 1
    return k


@kernel
def std_sort(keys, idx, first, last, desc):
    """std::sort: quicksort down to pieces of 16 (heapsort past 2 log2(n) levels),
    then one insertion sort over everything."""
    if last - first < 2:
        return
    stack = np.empty((2 * log2_floor(last - first) + 2, 3), np.int64)
    stack[0] = (first, last, 2 * log2_floor(last - first))
    top = 1
    while top > 0:
        top -= 1
        lo, hi, depth = stack[top]
        while hi - lo > 16:
            if depth == 0:
                partial_sort(keys, idx, lo, hi, hi, desc)
                break
            depth -= 1
            cut = partition(keys, idx, lo, hi, desc)
            stack[top] = (cut, hi, depth)  # the right part waits on the stack
            top += 1
            hi = cut
    if last - first > 16:
        insertion_sort(keys, idx, first, first + 16, desc)
        for i in range(first + 16, last):
            linear_insert(keys, idx, i, desc)
    else:
        insertion_sort(keys, idx, first, last, desc)


@kernel
def nth_element(keys, idx, first, nth, last, desc):
    """std::nth_element: put at nth the element the order puts there, smaller ones
    (in the order) before it and the rest after, by partitioning only the side that
    holds nth."""
    if first == last or nth == last:
        return
    depth = 2 * log2_floor(last - first)
    while last - first > 3:
        if depth == 0:
            heap_select(keys, idx, first, nth + 1, last, desc)
            swap(keys, idx, first, nth)
            return
        depth -= 1
        cut = partition(keys, idx, first, last, desc)
        if cut <= nth:
            first = cut
        else:
            last = cut
    insertion_sort(keys, idx, first, last, desc)


@kernel
def quick_select(keys, idx, k):
    """Sedgewick's quickselect (PyTorch's kthvalue): put the k-th smallest (NaN
    largest) at position k."""
    lo, hi = 0, len(keys) - 1
    while hi > lo:
        if hi == lo + 1:
            if before(keys[hi], keys[lo], False):
                swap(keys, idx, lo, hi)
            return
        swap(keys, idx, (lo + hi) >> 1, lo + 1)  # median of three, pivot to lo
        if before(keys[hi], keys[lo + 1], False):
            swap(keys, idx, lo + 1, hi)
        if before(keys[hi], keys[lo], False):
            swap(keys, idx, lo, hi)
        if before(keys[lo], keys[lo + 1], False):
            swap(keys, idx, lo + 1, lo)
        i, j, pivot = lo + 1, hi, keys[lo]
        while True:
            i += 1
            while before(keys[i], pivot, False):
                i += 1
            j -= 1
            while before(pivot, keys[j], False):
                j -= 1
            if j < i:
                break
            swap(keys, idx, i, j)
        swap(keys, idx, lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1


# ------------------------------------------------------------------ row drivers
@kernel
def sort_rows(keys, desc, out_idx):
    """std::sort of every row of keys (in place); the positions go to out_idx."""
    for r in range(keys.shape[0]):
        idx = np.arange(keys.shape[1])
        std_sort(keys[r], idx, 0, keys.shape[1], desc)
        out_idx[r] = idx


@kernel
def topk_rows(keys, k, largest, sorted_, out_idx):
    """PyTorch's topk of every row: positions of the k first in the order (largest
    first, or smallest), into out_idx[:, :k]."""
    n = keys.shape[1]
    for r in range(keys.shape[0]):
        row, idx = keys[r], np.arange(n)
        if k * 64 <= n:
            partial_sort(row, idx, 0, k, n, largest)
        else:
            nth_element(row, idx, 0, k - 1, n, largest)
            if sorted_:
                std_sort(row, idx, 0, k - 1, largest)
        out_idx[r] = idx[:k]


@kernel
def kthvalue_rows(keys, k, out_idx):
    """Position of the k-th smallest (k from 0) of every row, as PyTorch picks it."""
    for r in range(keys.shape[0]):
        idx = np.arange(keys.shape[1])
        quick_select(keys[r], idx, k)
        out_idx[r] = idx[k]
