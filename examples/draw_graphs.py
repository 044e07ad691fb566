"""Draw the backward graphs of the MLP's and the SeedCNN's loss (figures for the README).

    python examples/draw_graphs.py [--out examples/figures] [--seed 0]

Writes graph_mlp.png and graph_seedcnn.png: every op that loss.backward() passes
through, from the parameters (green) down to the loss (red), for a batch of 2 images.
The images need no gradient, so they are not in the graph.
"""
import pathlib

import minidl
import minidl.functional as F
from minidl import viz
from models import SeedCNN

from flags import add_out, add_seed, check_out_dir, parser
from train_mlp import make_mlp

ROOT = pathlib.Path(__file__).resolve().parents[1]


def draw(model, title, path):
    """Trace cross_entropy(model(x), y) for 2 random 28x28 images and draw its graph."""
    x = minidl.rand(2, 1, 28, 28)
    y = minidl.tensor([3, 7])
    loss = F.cross_entropy(model(x), y)
    return viz.draw_graph(loss, path, params=dict(model.named_parameters()), title=title)


def main(argv=None):
    p = parser(pathlib.Path(__file__).name, __doc__.splitlines()[0])
    add_out(p, str(ROOT / "examples" / "figures"),
            help="folder for graph_mlp.png and graph_seedcnn.png")
    add_seed(p, help="same seed, same figures")
    args = p.parse_args(argv)
    out = check_out_dir(args)
    minidl.manual_seed(args.seed)
    draw(make_mlp(), "MLP: the graph behind loss.backward()", out / "graph_mlp.png")
    draw(SeedCNN(), "SeedCNN: the graph behind loss.backward()", out / "graph_seedcnn.png")
    print(f"wrote {out / 'graph_mlp.png'} and {out / 'graph_seedcnn.png'}")


if __name__ == "__main__":
    main()
