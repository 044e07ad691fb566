"""RemovableHandle: what every register_*_hook returns (tensor hooks in tensor.py,
module hooks in nn/module.py); `handle.remove()` unregisters the hook.

Hooks live in a dict {handle id: hook} on their owner, in the order they were
registered; the handle remembers the dict and its own id.
"""
from __future__ import annotations

import itertools


class RemovableHandle:
    """Returned by register_*_hook; `handle.remove()` (or leaving a `with handle:`
    block) unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks: dict):
        self.hooks = hooks
        self.id = next(RemovableHandle._ids)

    @classmethod
    def add(cls, hooks: dict, hook) -> "RemovableHandle":
        """Put hook into hooks (after those already there); its handle."""
        handle = cls(hooks)
        hooks[handle.id] = hook
        return handle

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
