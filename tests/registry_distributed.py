"""Registry entries for the ops that span ranks (minidl/distributed/functional.py),
checked in a world of one (registry.py has the format). Their values across 2 ranks
are checked under mpiexec in test_distributed.py."""
from minidl.distributed import functional as DF
from minidl.distributed.world import World
from registry import register, normal

ALONE = World(rank=0, size=1, comm=None)  # a world of one, whatever this process is


def _normals(*shapes):
    return lambda rng: tuple(rng.standard_normal(s) for s in shapes)


register("distributed.all_reduce", lambda x: DF.all_reduce(x, group=ALONE), normal(2, 3))
register("distributed.all_reduce", lambda x: DF.all_reduce(x, "mean", group=ALONE) * x,
         normal(4))
register("distributed.sync_batch_norm",
         lambda x, w, b: DF.sync_batch_norm(x, None, None, w, b, group=ALONE),
         _normals((4, 3, 2), (3,), (3,)))
register("distributed.sync_batch_norm",
         lambda x: DF.sync_batch_norm(x, None, None, eps=0.1, group=ALONE),
         normal(3, 2, 2, 2))
