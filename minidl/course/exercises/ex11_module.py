"""Exercise 11: Module and Linear -- how a model finds its weights.

minidl's nn.Module (like PyTorch's) notices, in __setattr__, every Parameter assigned
to it (kept in self._parameters) and every sub-Module (self._modules), both in the
order they were assigned. Everything that needs all the weights -- the optimizer,
state_dict, zero_grad -- walks them the same way:

    named_parameters(module, prefix):
        for each (name, p) in module._parameters:   yield prefix + name, p
        for each (name, child) in module._modules:  the child's, with prefix
                                                    prefix + name + "."
A Parameter shared by two layers is listed once (an optimizer must not step it twice).

Linear(in_features, out_features):  y = x @ W^T + b
    W of shape (out_features, in_features) -- PyTorch's layout, so state_dicts map
    1:1 -- and b of shape (out_features,), both drawn uniformly from
    [-1/sqrt(in_features), 1/sqrt(in_features)] (PyTorch's default initialisation).

The check: named_parameters against minidl's on nested models (names, order, a shared
layer listed once); Linear's shapes and initial range; its forward against
minidl.functional.linear; gradcheck and gradgradcheck through the layer.

Hint: keep the ids of the parameters already yielded in a set passed down the
recursion; for Linear, `nn.Parameter((minidl.rand(out, in) * 2 - 1) * bound)`.
"""
import minidl  # noqa: F401
from minidl import nn


def named_parameters(module, prefix="", seen=None):
    """Yield (dotted name, Parameter) for module and its children, in order, once each."""
    raise NotImplementedError


class Linear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        raise NotImplementedError  # self.weight = ..., self.bias = ...

    def forward(self, x):
        raise NotImplementedError
