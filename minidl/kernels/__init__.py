"""Numba kernels: plain loops over contiguous arrays, compiled once and cached.

Kernels never check their arguments; the Python layer that calls them (in
minidl/ops and minidl/functional) owns shapes, dtypes and error messages.
"""
