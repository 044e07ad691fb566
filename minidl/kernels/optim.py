"""The optimizers' updates as fused kernels: one pass over each parameter, in place.

minidl/optim writes every update first as readable numpy (adam.py, sgd.py, ...): a
handful of whole-array operations, each reading and writing every element once more
and most allocating a temporary as big as the parameter. For big layers that traffic
is the cost -- the arithmetic is nothing. The kernels below do the same arithmetic,
in the same order and in the parameter's dtype, element by element in one loop: each
value is read once and written once, and nothing is allocated. optim/*.py uses them
when they apply (`fused=None`, the default, with compiled kernels) and the numpy
formula otherwise; tests/test_optim.py checks that both give the same numbers.

Arrays are flat and contiguous; the scalar coefficients arrive already in the
parameter's dtype (computed in Python's double precision, then rounded, exactly as
numpy rounds a Python float it multiplies a float32 array by). Compiled with numpy's
error model (compile.py), LLVM vectorises these loops, square roots and divisions
included: Adam on 37,000 floats, one thread, 122 -> 32 us.
"""
import math

from .compile import kernel, prange


@kernel(parallel=True)
def adam(param, grad, m, v, v_max, beta1, one_minus_beta1, beta2, one_minus_beta2,
         step_size, bias2_sqrt, eps, weight_decay, decay_factor, maximize, amsgrad):
    """One Adam / AdamW step (optim/adam.py has the formula, term by term):

        g = -grad if maximize else grad;  p *= decay_factor (AdamW: 1 - lr * wd)
        g += weight_decay * p             (Adam's L2 penalty; 0 for AdamW)
        m = beta1 m + (1 - beta1) g;      v = beta2 v + (1 - beta2) g^2
        v_max = max(v_max, v), used instead of v   (only if amsgrad)
        p -= m / (sqrt(v) / bias2_sqrt + eps) * step_size"""
    for i in prange(param.shape[0]):
        g = -grad[i] if maximize else grad[i]
        p = param[i] * decay_factor
        if weight_decay != 0:
            g = g + weight_decay * p
        m[i] = m[i] * beta1 + one_minus_beta1 * g
        v[i] = v[i] * beta2 + one_minus_beta2 * (g * g)
        second = v[i]
        if amsgrad:  # (a NaN in v_max stays, as with np.maximum)
            if v[i] > v_max[i] or v[i] != v[i]:
                v_max[i] = v[i]
            second = v_max[i]
        denom = math.sqrt(second) / bias2_sqrt + eps
        param[i] = p - m[i] / denom * step_size


@kernel(parallel=True)
def sgd(param, grad, buf, lr, weight_decay, momentum, one_minus_dampening, first,
        nesterov, maximize):
    """One SGD step (optim/sgd.py has the formula); buf, the momentum buffer, is used
    only if momentum != 0, and set to g on the first step."""
    for i in prange(param.shape[0]):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + weight_decay * param[i]
        if momentum != 0:
            buf[i] = g if first else buf[i] * momentum + one_minus_dampening * g
            g = g + momentum * buf[i] if nesterov else buf[i]
        param[i] = param[i] - lr * g


@kernel(parallel=True)
def rmsprop(param, grad, v, avg, buf, lr, alpha, one_minus_alpha, eps, weight_decay,
            momentum, centered, maximize):
    """One RMSprop step (optim/rmsprop.py has the formula); avg (the running mean of g)
    is used only if centered, buf only if momentum > 0."""
    for i in prange(param.shape[0]):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + weight_decay * param[i]
        v[i] = v[i] * alpha + one_minus_alpha * (g * g)
        second = v[i]
        if centered:
            avg[i] = avg[i] * alpha + one_minus_alpha * g
            second = v[i] - avg[i] * avg[i]
        denom = math.sqrt(second) + eps
        if momentum > 0:
            buf[i] = buf[i] * momentum + g / denom
            param[i] = param[i] - lr * buf[i]
        else:
            param[i] = param[i] - g / denom * lr
