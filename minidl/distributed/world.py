"""The world of a data-parallel job: who am I (rank), how many are we (world size),
and what happens when one of us fails.

    mpiexec -n 2 python train.py        # starts two copies of the same script

    import minidl.distributed as dist
    dist.init()                         # this copy learns it is rank 0 or rank 1 ...
    dist.get_rank(), dist.get_world_size()          # ... of a world of size 2

`mpiexec -n p` starts p processes running one Python script. MPI (the Message
Passing Interface, used from Python through mpi4py) connects them and numbers them
0..p-1: the rank. They share no memory; whatever they must agree on travels as
messages (collectives.py). In data-parallel training each rank holds a full copy of
the model, computes gradients on its own share of every batch, and the ranks average
those gradients before each optimizer step (nn/parallel.py).

A world of one: run without mpiexec -- or without mpi4py installed (it is the
optional extra `pip install -e ".[mpi]"`) -- and init() makes this process rank 0 of
1, where every collective gives back its input. The same script then trains on one
process, which is how the distributed examples are checked against plain training.
mpi4py is imported by init(), never by `import minidl`.

When a rank fails: the others would wait forever at their next collective for a
message that never comes. So, in a world of more than one, init() replaces
sys.excepthook: an exception that nothing catches prints its traceback with each
line marked "[rank r]" and then calls MPI_Abort, which ends every rank of the job
at once (mpiexec exits with a non-zero status). sys.exit() is not an exception
Python reports that way; a script that stops one rank with it while the others go
on should call abort() instead (examples/training.py's run_script does). And
print() writes whole lines at once: what a rank printed before the job was stopped
is not lost in a buffer.

Threads: each rank would start as many Numba threads as the machine has cores; p
ranks on one machine would then run p times too many. Like PyTorch's torchrun (which
sets OMP_NUM_THREADS=1), init() gives each rank cores // (ranks on this machine)
Numba threads -- unless NUMBA_NUM_THREADS is set, which it leaves alone.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass

__all__ = ["init", "is_available", "is_initialized", "get_rank", "get_world_size",
           "abort", "launched_world_size"]

# Environment variables through which launchers tell a process its world size: MPICH's
# and Intel MPI's mpiexec (PMI_SIZE), Open MPI's mpirun (OMPI_COMM_WORLD_SIZE).
_LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")


@dataclass
class World:
    """This process's place in the job. comm is mpi4py's MPI.COMM_WORLD, or None in
    a world of one without mpi4py."""
    rank: int
    size: int
    comm: object | None


_world: World | None = None  # set by init()


def is_available() -> bool:
    """True when mpi4py can be imported, i.e. a job of several processes is possible."""
    return importlib.util.find_spec("mpi4py") is not None


def is_initialized() -> bool:
    return _world is not None


def init() -> None:
    """Join the job: learn this process's rank and the world size from MPI.

    Without mpi4py, or when not started by mpiexec, this process is rank 0 of 1.
    Started by a launcher for several processes but without mpi4py, it raises
    (otherwise each copy would train alone, silently). Calling init() again does
    nothing."""
    global _world
    if _world is not None:
        return
    if not is_available():
        launched = launched_world_size()
        if launched > 1:
            raise RuntimeError(
                f"minidl.distributed.init: this process was started as one of {launched} "
                "by an MPI launcher, but mpi4py is not installed, so it cannot reach the "
                "others; install the extra: pip install -e \".[mpi]\" (mpi4py and mpich)")
        _world = World(0, 1, None)
        return
    from mpi4py import MPI  # starts MPI (MPI_Init) in this process
    comm = MPI.COMM_WORLD
    _world = World(comm.Get_rank(), comm.Get_size(), comm)
    if _world.size > 1:
        _abort_on_uncaught_exceptions()
        _share_cores(comm)
        if hasattr(sys.stdout, "reconfigure"):  # whole lines, never lost to an abort
            sys.stdout.reconfigure(line_buffering=True)


def launched_world_size() -> int:
    """How many processes the launcher (mpiexec) started, read from the environment
    it gives each of them (no MPI needed); 1 when not started by a launcher."""
    for name in _LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def world(op: str) -> World:
    """The World, for the collectives; `op` names the caller in the error."""
    if _world is None:
        raise ValueError(f"{op}: the distributed world has not been initialized; call "
                         "minidl.distributed.init() first (PyTorch: init_process_group)")
    return _world


def get_rank() -> int:
    """This process's number, 0..world size - 1 (rank 0 usually prints and saves)."""
    return world("get_rank").rank


def get_world_size() -> int:
    """How many processes take part in the job."""
    return world("get_world_size").size


# ------------------------------------------------------------------ failures
def _abort_on_uncaught_exceptions():
    """Make an uncaught exception on this rank end the whole job (module docstring)."""
    def report_and_abort(kind, value, tb):
        rank, size = _world.rank, _world.size
        lines = "".join(traceback.format_exception(kind, value, tb)).splitlines()
        sys.stderr.write(f"[rank {rank}] minidl.distributed: rank {rank} of {size} "
                         f"stopped with {kind.__name__}; aborting every rank of the job\n"
                         + "".join(f"[rank {rank}] {line}\n" for line in lines))
        sys.stderr.flush()
        _world.comm.Abort(1)
    sys.excepthook = report_and_abort


def abort(status=1):
    """End every rank of the job now. status is what sys.exit takes: an exit code, or a
    message, printed on stderr marked with this rank (exit code 1). In a world of one
    this is sys.exit(status)."""
    if _world is None or _world.size == 1:
        sys.exit(status)
    if isinstance(status, str):
        sys.stderr.write(f"[rank {_world.rank}] {status}\n")
    sys.stderr.flush()
    sys.stdout.flush()
    _world.comm.Abort(status if isinstance(status, int) else 1)


# ------------------------------------------------------------------ threads
def _share_cores(comm):
    """Give each rank on this machine its share of the cores (module docstring)."""
    if "NUMBA_NUM_THREADS" in os.environ:
        return
    from mpi4py import MPI
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)  # the ranks on this machine
    ranks_here = local.Get_size()
    local.Free()
    import numba
    numba.set_num_threads(max(1, min(numba.config.NUMBA_NUM_THREADS,
                                     (os.cpu_count() or 1) // ranks_here)))
