"""The op table in docs/ops.md is generated from the registry and must be current, and
the @covers declarations it is built from are sound."""
import pathlib
import sys

import pytest
from hypothesis import given, strategies as st

import minidl.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import op_table  # noqa: E402

registry = op_table.load_registry()


def test_op_table_is_up_to_date():
    text = op_table.DOC.read_text()
    assert op_table.replace_block(text, op_table.render()) == text, (
        "docs/ops.md: the op table is stale; run python scripts/op_table.py")


def test_check_mode_reports_a_stale_table_without_writing(tmp_path):
    doc = tmp_path / "ops.md"
    stale = f"intro\n{op_table.START}\nold table\n{op_table.END}\nend\n"
    doc.write_text(stale)
    assert op_table.main(["--check", "--doc", str(doc)]) == 1
    assert doc.read_text() == stale
    assert op_table.main(["--doc", str(doc)]) == 0
    fresh = doc.read_text()
    assert fresh.startswith("intro\n") and fresh.endswith("\nend\n")
    assert "| `conv2d` |" in fresh and op_table.main(["--check", "--doc", str(doc)]) == 0


def test_every_covers_declaration_points_to_a_hypothesis_test_of_a_known_op():
    known = {s.name for s in registry.REGISTRY} | registry.NOT_DIFFERENTIABLE
    assert registry.PROPERTY_TESTS
    for op, tests in registry.PROPERTY_TESTS.items():
        assert op in known, op
        for test_id in tests:
            file, name = test_id.split("::")
            assert (ROOT / "tests" / file).exists(), test_id
            test = getattr(sys.modules[file.removesuffix(".py")], name)
            assert hasattr(test, "hypothesis"), f"{test_id} is not a hypothesis test"


def test_every_public_op_has_a_property_test():
    missing = [n for n in F.__all__ if n not in registry.PROPERTY_TESTS]
    assert not missing, f"public ops without a @covers property test: {missing}"


def test_covers_refuses_plain_tests_and_unknown_ops():
    with pytest.raises(TypeError, match="above @given"):
        registry.covers("add")(lambda: None)
    with pytest.raises(ValueError, match="not_an_op"):
        registry.covers("add", "not_an_op")(given(st.integers())(lambda x: None))
