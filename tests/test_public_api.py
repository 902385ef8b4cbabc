"""The public surface: `choreo_lab.__all__` is exactly what the package exports, and it is light."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import choreo_lab

HEAVY = ("ipywidgets", "jupyterlab", "jupyter_server", "rich", "mermaid")


def exported_names() -> set[str]:
    """What the package holds (or loads on first use), without its modules and private names."""
    held = {name for name, value in vars(choreo_lab).items()
            if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    return held | set(choreo_lab._LAZY)


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


def test_internals_are_not_exported():
    for internal in ("Delivery", "RunningService", "FaultInjector", "copy_state", "ConsumerGroup"):
        assert internal not in choreo_lab.__all__


def test_lazy_names_load_what_they_need_only_when_used():
    script = ("import sys, json, choreo_lab; before = 'mermaid' in sys.modules; "
              "choreo_lab.sequence_diagram; print(json.dumps([before, 'mermaid' in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert json.loads(result.stdout) == [False, True]


def test_importing_the_package_loads_no_notebook_terminal_or_diagram_libraries():
    script = ("import sys, json, choreo_lab; "
              f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert json.loads(result.stdout) == []
