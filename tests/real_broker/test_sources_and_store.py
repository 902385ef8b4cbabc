"""How a worker finds its service (sources) and keeps its state (the SQLite store): no server."""

from __future__ import annotations

import pytest

from choreo_lab import Service
from choreo_lab.nats import ServiceSource, rebuildable, services_from, source_of
from choreo_lab.nats.store import ServiceStore, read_counters, read_state

from contract.flows import archive, registrations_listener


def test_a_rebuildable_factory_remembers_its_arguments_positional_ones_by_name():
    listener = registrations_listener("crm")
    shelf = archive(fail_on_first_attempt=(2, 5), instances=2)
    module = registrations_listener.__module__  # as pytest imported it
    assert source_of(listener) == ServiceSource(f"{module}:registrations_listener",
                                                {"name": "crm"})
    rebuilt = source_of(shelf).service("archive")
    assert (rebuilt.name, rebuilt.instances, list(rebuilt.handlers)) == ("archive", 2,
                                                                         ["ChapterWritten"])


def test_services_from_a_spec_builds_them_and_each_remembers_the_spec():
    services = services_from("choreo_lab.examples.orders:order_services", stock={"book": 1})
    assert [s.name for s in services] == ["order", "payment", "inventory", "shipping"]
    assert source_of(services[2]).arguments == {"stock": {"book": 1}}
    assert source_of(services[2]).service("inventory").initial_state["stock"] == {"book": 1}


def test_a_service_built_only_in_this_process_says_how_to_make_it_rebuildable():
    with pytest.raises(ValueError, match="@choreo_lab.nats.rebuildable"):
        source_of(Service("scratch"))


def test_a_source_in_a_notebook_or_with_arguments_that_are_not_literals_is_refused():
    with pytest.raises(ValueError, match="Move the service into a module"):
        ServiceSource("__main__:payment")
    with pytest.raises(ValueError, match="plain literals"):
        ServiceSource("contract.flows:archive", {"name": object()})
    with pytest.raises(ValueError, match="builds no service named 'paymnet'"):
        ServiceSource("choreo_lab.examples.orders:order_services").service("paymnet")


def test_a_factory_taking_star_args_cannot_be_rebuildable():
    def varied(*names: str) -> list[Service]:
        return [Service(name) for name in names]
    with pytest.raises(TypeError, match="cannot be rebuildable"):
        rebuildable(varied)


def test_the_store_keeps_tuples_and_sets_and_commits_state_and_outbox_together(tmp_path):
    path = tmp_path / "mailer.sqlite"
    store = ServiceStore(path, {"sent": [], "seen": set()})
    store.begin()
    store.state["sent"].append(("ada", 3))
    store.state["seen"].add("m1")
    [row] = store.commit([("mailer-1", "run.events.Welcomed.Welcomed", b"{}")], handled=1)
    assert read_state(path) == {"sent": [("ada", 3)], "seen": {"m1"}}
    assert read_counters(path) == {"commits": 1, "handled": 1, "messages": 0, "outbox": 1}
    store.sent([row])
    assert read_counters(path)["outbox"] == 0


def test_a_rolled_back_batch_leaves_the_state_as_last_committed(tmp_path):
    path = tmp_path / "mailer.sqlite"
    store = ServiceStore(path, {"sent": []})
    store.begin()
    store.state["sent"].append("ada")
    store.commit([], handled=1)
    store.begin()
    store.state["sent"].append("grace")  # a handler in the batch fails: undo it all
    store.rollback()
    store.begin()
    assert store.state == {"sent": ["ada"]} == read_state(path)
    store.rollback()


def test_a_snapshot_without_a_trace_answers_hasattr_getattr_and_copy_as_objects_do():
    import copy

    from choreo_lab.nats.snapshot import NoTrace, StateSnapshot, TraceNeeded

    trace = NoTrace()
    assert not hasattr(trace, "where")
    assert getattr(trace, "records", None) is None
    assert copy.deepcopy(StateSnapshot({"a": {"b": 1}})).states == {"a": {"b": 1}}
    with pytest.raises(TraceNeeded, match="a real broker keeps no trace"):
        trace.where(kind="publish")
