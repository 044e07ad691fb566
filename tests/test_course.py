"""The course (minidl/course) can fail: for every exercise, the blank template fails
its check, the reference solution (minidl's own code) passes it, and a planted common
mistake fails it with the message that teaches the fix. And the checker leaves
minidl's files alone: a student's work lives in their own folder."""
import hashlib
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("hypothesis")
from minidl import course  # noqa: E402
from minidl.course import Blank, Solutions, Workspace  # noqa: E402
from minidl.course.grader import TEMPLATES  # noqa: E402
from course_mistakes import HAND_WRITTEN, MISTAKES  # noqa: E402

NUMBERS = [n for n, *_ in course.EXERCISES]


def run(n, workspace):
    lines = []
    return course.check(n, workspace, say=lines.append), "\n".join(lines)


@pytest.mark.parametrize("n", NUMBERS)
def test_the_reference_solution_passes(n):
    ok, report = run(n, Solutions())
    assert ok, report


@pytest.mark.parametrize("n", NUMBERS)
def test_the_blank_template_fails(n):
    ok, report = run(n, Blank())
    assert not ok and "not written yet" in report and "NotImplementedError" in report
    assert f"rerun: python -m minidl.course check {n}" in report


@pytest.mark.parametrize("n, replace, phrase", MISTAKES,
                         ids=[f"{n}-{next(iter(r))}" for n, r, _ in MISTAKES])
def test_a_planted_mistake_fails_with_its_lesson(n, replace, phrase):
    ok, report = run(n, Solutions({n: replace}))
    assert not ok and phrase in report, report


@pytest.mark.parametrize("n", sorted(HAND_WRITTEN))
def test_pieces_written_from_the_template_alone_pass(n):
    ok, report = run(n, Solutions({n: HAND_WRITTEN[n]}))
    assert ok, report


def test_the_exercises_follow_the_readme_layers_in_order():
    layers = [layer.split()[0] for _, _, layer, _ in course.EXERCISES]
    assert layers == sorted(layers) and len(course.EXERCISES) == 15
    assert sorted(p.name[:4] for p in TEMPLATES.glob("ex*.py")) == [
        f"ex{n:02d}" for n in NUMBERS]


SUM_TO = """
def sum_to(g, shape):
    lead = g.ndim - len(shape)
    g = g.sum(dim=tuple(range(lead))) if lead else g
    dims = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    return g.sum(dim=dims, keepdim=True) if dims else g
"""


def _digests(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(pathlib.Path(folder).rglob("*.py"))}


def test_the_command_line_works_in_the_students_folder_only(tmp_path):
    package = pathlib.Path(course.__file__).parent
    before = _digests(package)
    command = [sys.executable, "-m", "minidl.course"]
    out = subprocess.run(command + ["check", "1"], cwd=tmp_path, capture_output=True,
                         text=True)
    assert out.returncode == 1 and "not written yet" in out.stdout
    assert (tmp_path / "course" / "ex01_value.py").exists()
    status = subprocess.run(command + ["status"], cwd=tmp_path, capture_output=True,
                            text=True, check=True).stdout
    assert status.count("not started") == 15
    where = subprocess.run(command + ["solution", "3"], cwd=tmp_path, capture_output=True,
                           text=True, check=True).stdout
    assert "minidl/ops/reduction.py" in where and "sum_to" in where
    assert _digests(package) == before  # minidl's own files untouched


def test_a_student_copy_is_never_overwritten_and_passing_is_remembered(tmp_path):
    from minidl.course.__main__ import init, state
    folder = tmp_path / "course"
    init(folder, say=lambda s: None)
    mine = folder / "ex03_sum_to.py"
    mine.write_text(SUM_TO)
    init(folder, say=lambda s: None)
    assert mine.read_text() == SUM_TO
    workspace = Workspace(folder)
    assert state(workspace, 3) == "in progress" and state(workspace, 4) == "not started"
    assert course.check(3, workspace, say=lambda s: None)
    assert state(workspace, 3) == "passed" and workspace.done(3)
    own = object()
    assert workspace.piece(3, "sum_to", own) is not own  # passed: the student's piece
    mine.write_text(mine.read_text() + "\n")
    assert state(Workspace(folder), 3) == "changed since it passed"
    assert Workspace(folder).piece(3, "sum_to", own) is own  # changed: minidl's again
    (folder / "ex04_matmul.py").write_text("def broken(:\n")
    lines = []
    assert not course.check(4, Workspace(folder), say=lines.append)
    assert "ex04_matmul.py does not load: SyntaxError" in "\n".join(lines)


def test_the_code_given_in_the_templates_works():
    import numpy as np
    import minidl
    import minidl.functional as F
    from minidl.course import solutions
    from course_mistakes import Conv2dFromTemplate, MaxPoolFromTemplate
    blank = Blank()
    optimizers = blank.module(12)  # its Adam class around the student's adam_step
    optimizers.adam_step = solutions.adam_step
    ok, report = run(12, Solutions({12: {"Adam": optimizers.Adam}}))
    assert ok, report
    convolutions, pools = blank.module(9), blank.module(10)
    convolutions.Conv2d, pools.MaxPool2d = Conv2dFromTemplate, MaxPoolFromTemplate
    rng = np.random.default_rng(0)
    x, w, b = (minidl.tensor(rng.standard_normal(shape))
               for shape in [(2, 3, 7, 6), (4, 3, 3, 3), (4,)])
    assert np.allclose(convolutions.conv2d(x, w, b, 2, 1).numpy(),
                       F.conv2d(x, w, b, 2, 1).numpy())
    assert np.allclose(pools.max_pool2d(x, 2).numpy(), F.max_pool2d(x, 2).numpy())
