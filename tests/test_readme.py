"""Every Python snippet in the README runs."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_python_snippet_in_the_readme_runs(capsys):
    snippets = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert snippets, "the README should show the library in code"
    for snippet in snippets:
        exec(compile(snippet, str(README), "exec"), {})
    printed = capsys.readouterr().out
    assert "{'charges': {'o-1': 42}}" in printed and "restart       payment" in printed


def test_the_readme_quick_start_is_exactly_the_two_make_commands_ci_runs():
    text = README.read_text()
    quick_start = text.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make (\w+)", quick_start, re.M)
    assert commands == ["lab", "test"]
    ci = (README.parent / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
