"""Tools around the engine: looking inside it, plotting, and saving to disk.

    trace.py          minidl.trace(): time every op forward and backward, and the named
                      steps inside them (im2col, GEMM, the optimizer)
    viz.py            minidl.viz: the backward graph of a tensor, as data, DOT text, or
                      a drawing
    plot.py           minidl.plot: training curves, image grids, confusion matrices,
                      filters, feature maps, per-layer histograms
    serialization.py  minidl.save / minidl.load: checkpoints as .npz, without pickle
    fileio.py         writing any file atomically (what save and the plots use)

The engine needs none of them to compute: only `trace.span` is called from the ops,
and it does nothing unless a trace is recording.

These files were top-level modules before this folder existed, and their old names
still import (`import minidl.plot`, `from minidl.viz import draw_graph`): the finder
below answers for exactly those names with the module from this folder -- one
module, two names, as `os.path` is `posixpath`.
"""
import importlib
import importlib.abc
import importlib.util
import sys

from . import trace  # every op calls trace.span: imported with the engine

MOVED = ("trace", "viz", "plot", "serialization", "fileio")


class _FormerNames(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports minidl.<name> as minidl.tools.<name> for the names in MOVED."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        if package == "minidl" and name in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):  # the module, imported under its new name
        module = importlib.import_module(f"{__name__}.{spec.name.rpartition('.')[2]}")
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module):  # the import system gave it the old name's spec
        module.__spec__ = module.__spec__.loader_state


# minidl.trace is also the name of a function (minidl/__init__.py): the module gets its
# old name now, as importing it later would rebind minidl.trace to the module.
sys.modules.setdefault("minidl.trace", trace)
if not any(isinstance(f, _FormerNames) for f in sys.meta_path):
    sys.meta_path.append(_FormerNames())
