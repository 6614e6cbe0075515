"""README.md stays true: its example runs, and its set-up test command is the one CI runs."""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_example_runs_and_learns():
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    loss = float(re.search(r"loss: ([0-9.]+)", done.stdout).group(1))
    assert loss < 0.01


def test_ci_runs_the_readme_test_command():
    command = re.search(r"&& (python -m pytest [^\n#]*?)\s+#", README).group(1).strip()
    assert command in (ROOT / ".ci" / "run").read_text()
