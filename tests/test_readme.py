"""The README's promises: CI runs its test command, and its code examples run."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _bash_blocks():
    return re.findall(r"```bash\n(.*?)```", README, re.S)


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README, re.S)


def test_readme_starts_with_the_two_commands():
    main_job, tests = (b.strip() for b in _bash_blocks()[:2])
    assert "pip install -e ." in main_job and "examples/train_cnn.py" in main_job
    assert 'pip install -e ".[test]"' in tests and "python -m pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = _bash_blocks()[1].strip()
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_custom_function_example_runs_and_passes_gradcheck():
    block = next(b for b in _python_blocks() if "class Swish" in b)
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)  # also runs its gradchecks
    import minidl
    x = minidl.randn(2, 3, dtype=minidl.float64, requires_grad=True)
    swish = namespace["Swish"].apply
    assert minidl.gradcheck(swish, (x,)) and minidl.gradgradcheck(swish, (x,))
    expected = x.detach().numpy() / (1 + __import__("numpy").exp(-x.detach().numpy()))
    assert abs(swish(x).detach().numpy() - expected).max() < 1e-12
