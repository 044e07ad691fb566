"""The folder tree is the architecture: the package docstring and the README's "How it
works" table name every file and folder of minidl/ once, in one reading order; and the
tools that moved into minidl/tools/ still import under their old names."""
import importlib
import pathlib
import re
import subprocess
import sys

import minidl

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "minidl"
ENTRY = r"[a-z_]+\.py|[a-z_]+/"


def tree():
    """minidl's own files and folders (the Python ones), without __init__.py."""
    return {p.name + ("/" if p.is_dir() else "") for p in PACKAGE.iterdir()
            if (p.suffix == ".py" or (p / "__init__.py").exists())
            and p.name != "__init__.py"}


def readme_order():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## How it works"):readme.index("The shortest path")]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    return list(dict.fromkeys(re.findall(rf"\]\(minidl/({ENTRY})\)", table)))


def docstring_order():
    names = re.findall(rf"(?<![\w/.])({ENTRY})(?=[\s,);])", minidl.__doc__)
    return [n for n in dict.fromkeys(names) if n not in ("models/", "examples/")]


def test_readme_table_and_package_docstring_name_the_tree_in_one_order():
    assert set(readme_order()) == tree(), "README's 'How it works' table vs minidl/"
    assert docstring_order() == readme_order()


def test_every_file_the_readme_links_exists():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([^)#]+)\)", readme) + re.findall(r'<img src="([^"]+)"', readme)
    missing = [link for link in links
               if "://" not in link and not (ROOT / link).exists()]
    assert not missing
    start = readme.index("The shortest path")
    assert len(re.findall(r"\]\(", readme[start:readme.index("\n\n", start)])) >= 8


def test_the_tools_keep_their_former_names():
    from minidl import tools
    for name in tools.MOVED:
        old, new = (importlib.import_module(f"minidl.{name}"),
                    importlib.import_module(f"minidl.tools.{name}"))
        assert old is new and new.__spec__.name == f"minidl.tools.{name}"
    assert callable(minidl.trace) and minidl.viz is tools.viz
    from minidl.plot import save_figure  # noqa: F401
    assert callable(minidl.trace)  # importing the module minidl.trace did not rebind it


def test_importing_a_former_name_first_keeps_minidl_trace_a_function():
    code = ("import minidl.plot, minidl.trace, minidl.fileio; import minidl; "
            "from minidl.trace import Trace; print(callable(minidl.trace), "
            "minidl.plot.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "minidl.tools.plot"]
