"""Exercise 4: matrix multiplication and its backward.

    Y = A @ B            A (n, k), B (k, m), Y (n, m)
    dL/dA = G @ B^T      (n, m) @ (m, k) -> (n, k)
    dL/dB = A^T @ G      (k, n) @ (n, m) -> (k, m)
(each follows from Y[i, j] = sum_p A[i, p] B[p, j]: dY[i, j]/dA[i, p] = B[p, j]).

The check: forward against numpy; gradcheck and gradgradcheck on 2-D matrices
(including 1-row and 1-column ones); properties: A @ I == A, (A @ B)^T == B^T @ A^T.

Hint: if you are unsure where the transpose goes, write down the shapes -- only one
product of G with B (or A) has the shape of A (or B).
"""
from minidl import Function


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError
