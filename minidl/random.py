"""Random numbers: one seedable generator for the library, and your own if you like.

minidl.manual_seed(0) makes weight initialisation, dropout, randn, ... repeatable.
A DataLoader or an example can hold its own `Generator`, so shuffling does not
depend on how many random numbers the model happened to draw.
"""
from __future__ import annotations

import numpy as np


class Generator:
    """A seedable source of random numbers (wraps numpy's PCG64 bit generator)."""

    def __init__(self, seed: int | None = None):
        self.manual_seed(seed)

    def manual_seed(self, seed: int | None) -> "Generator":
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        self._seed = int(seed)
        self.np = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self.np.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.np.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the library's default generator; same seed, same numbers."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    return default_generator.initial_seed()


def numpy_rng(generator: Generator | None = None) -> np.random.Generator:
    """The numpy generator behind `generator` (the default one when None)."""
    return (generator or default_generator).np
