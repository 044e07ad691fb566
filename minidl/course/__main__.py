"""python -m minidl.course {init,status,check N|all,solution N} [--dir course]"""
import argparse
import inspect
import pathlib
import shutil
import sys

from . import EXERCISES, Workspace, check
from .grader import TEMPLATES, stem


def init(folder: pathlib.Path, say=print) -> None:
    """Copy the exercise templates into folder; files already there are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for template in sorted(TEMPLATES.glob("ex*.py")):
        target = folder / template.name
        if not target.exists():  # never overwrite a student's work
            shutil.copyfile(template, target)
            copied.append(template.name)
    if copied:
        say(f"copied {len(copied)} exercises into {folder}/ -- start with "
            f"{folder}/{copied[0]}")


def state(workspace: Workspace, n) -> str:
    path = workspace.path(n)
    if workspace.done(n):
        return "passed"
    if path.read_bytes() == (TEMPLATES / path.name).read_bytes():
        return "not started"
    return "in progress" if str(n) not in workspace.ledger() else "changed since it passed"


def status(workspace, say=print) -> None:
    for n, title, layer, _ in EXERCISES:
        say(f"  {n:2d}. {title:<55s} {layer:<24s} {state(workspace, n)}")
    say("check one: python -m minidl.course check N")


def solution(n, say=print) -> None:
    from .solutions import WHERE
    root = pathlib.Path(__file__).resolve().parents[2]
    say(f"exercise {n} ({stem(n)}.py): minidl's own version is")
    for obj in WHERE[n]:
        path = pathlib.Path(inspect.getsourcefile(obj)).resolve()
        line = inspect.getsourcelines(obj)[1]
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        note = (obj.__doc__ or "").strip().splitlines()[:1]
        say(f"  {shown}:{line}  {obj.__qualname__}"
            + (f"  ({note[0]})" if path.name == "solutions.py" and note else ""))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m minidl.course",
                                description="Learn by building: rebuild minidl's core")
    p.add_argument("command", choices=["init", "status", "check", "solution"])
    p.add_argument("exercise", nargs="?", help="a number 1-14, or `all` (check)")
    p.add_argument("--dir", default="course", help="your copy of the exercises")
    args = p.parse_args(argv)
    folder = pathlib.Path(args.dir)
    if args.command in ("init", "status", "check"):
        init(folder)
    workspace = Workspace(folder)
    if args.command == "status":
        status(workspace)
    elif args.command in ("check", "solution"):
        numbers = _numbers(p, args)
        if args.command == "solution":
            for n in numbers:
                solution(n)
            return 0
        results = [check(n, workspace) for n in numbers]
        return 0 if all(results) else 1
    return 0


def _numbers(parser, args):
    if args.exercise == "all":
        return [n for n, *_ in EXERCISES]
    if args.exercise is None or not args.exercise.isdigit() \
            or not 1 <= int(args.exercise) <= len(EXERCISES):
        parser.error(f"{args.command} needs an exercise number 1-{len(EXERCISES)}"
                     + (" or `all`" if args.command == "check" else ""))
    return [int(args.exercise)]


if __name__ == "__main__":
    sys.exit(main())
