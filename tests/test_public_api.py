"""The public surface: `choreo_lab.__all__` is exactly what the package exports, and it is light."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import choreo_lab

HEAVY = ("ipywidgets", "jupyterlab", "jupyter_server", "rich", "mermaid")


def exported_names() -> set[str]:
    return {name for name, value in vars(choreo_lab).items()
            if not name.startswith("_") and not isinstance(value, types.ModuleType)}


def test_all_lists_exactly_the_public_names_once_each():
    assert len(choreo_lab.__all__) == len(set(choreo_lab.__all__))
    assert set(choreo_lab.__all__) == exported_names()


def test_every_name_in_all_can_be_imported_from_the_package():
    namespace: dict[str, object] = {}
    exec(f"from choreo_lab import {', '.join(choreo_lab.__all__)}", namespace)
    for name in choreo_lab.__all__:
        assert namespace[name] is getattr(choreo_lab, name)


def test_star_import_gives_exactly_all():
    namespace: dict[str, object] = {}
    exec("from choreo_lab import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(choreo_lab.__all__)


def test_importing_the_package_loads_no_notebook_terminal_or_diagram_libraries():
    script = ("import sys, json, choreo_lab; "
              f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert json.loads(result.stdout) == []
