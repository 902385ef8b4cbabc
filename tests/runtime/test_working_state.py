"""The handler's working copy behaves like a deep copy made up front, at the cost of what it touches.

Property: any sequence of reads and writes done to `WorkingDict(committed)` and to
`copy.deepcopy(committed)` leaves `saved_state(working)` equal to the deep copy, and the
committed state unchanged (a handler that raises leaves nothing behind).
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from choreo_lab import InvalidState
from choreo_lab.state import WorkingDict, commit_changes, saved_state, state_changes

KEYS = ("a", "b", "c")
leaf = st.one_of(st.integers(-3, 3), st.sampled_from(("x", "y")), st.none())
plain = st.recursive(leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)),
    max_leaves=12)
state = st.dictionaries(st.sampled_from(KEYS), plain, max_size=3)
# an operation: a path of keys/indexes to walk, then what to do at the end
step = st.tuples(st.lists(st.one_of(st.sampled_from(KEYS), st.integers(-2, 2)), max_size=3),
                 st.sampled_from(("set", "append", "pop", "del", "insert", "sort", "read",
                                  "values", "setdefault", "update", "reverse", "clear",
                                  "copy-then-change", "len", "in", "extend")),
                 plain)


def walk(container, path):
    """Follow the path as far as it goes through containers; return the last container."""
    for part in path:
        try:
            child = container[part]
        except (KeyError, IndexError, TypeError):
            break
        if not isinstance(child, (dict, list)):
            break
        container = child
    return container


def change_first(copied):
    """Change the first container in a shallow copy: it is shared with the list or dict copied."""
    items = list(copied.values()) if isinstance(copied, dict) else list(copied)
    for item in items:
        if isinstance(item, dict):
            item["c"] = "changed"
            return
        if isinstance(item, list):
            item.append("changed")
            return


def apply(container, path, action, value):
    """Do one operation; errors (a missing key, an empty pop) are part of the sequence too."""
    target = walk(container, path)
    key = path[-1] if path else "a"
    try:
        if isinstance(target, dict):
            key = key if isinstance(key, str) else "a"
            {"set": lambda: target.__setitem__(key, copy.deepcopy(value)),
             "pop": lambda: target.pop(key, None), "del": lambda: target.__delitem__(key),
             "read": lambda: target.get(key), "values": lambda: list(target.values()),
             "setdefault": lambda: target.setdefault(key, copy.deepcopy(value)),
             "update": lambda: target.update({key: copy.deepcopy(value)}),
             "clear": target.clear, "len": lambda: len(target), "in": lambda: key in target,
             "copy-then-change": lambda: change_first(target.copy())}.get(
                 action, lambda: target.get(key))()
        else:
            index = key if isinstance(key, int) else 0
            {"set": lambda: target.__setitem__(index, copy.deepcopy(value)),
             "append": lambda: target.append(copy.deepcopy(value)),
             "pop": lambda: target.pop(index), "del": lambda: target.__delitem__(index),
             "insert": lambda: target.insert(index, copy.deepcopy(value)),
             "sort": lambda: target.sort(key=repr), "reverse": target.reverse,
             "read": lambda: target[index], "values": lambda: list(target),
             "clear": target.clear, "len": lambda: len(target), "in": lambda: value in target,
             "extend": lambda: target.extend([copy.deepcopy(value), copy.deepcopy(value)]),
             "copy-then-change": lambda: change_first(
                 (target + []) if index % 2 else target.copy())}.get(action, lambda: target[index])()
    except (KeyError, IndexError):
        pass


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(committed=state, steps=st.lists(step, max_size=12))
def test_a_working_copy_saves_what_a_deep_copy_would_hold_and_leaves_the_original(committed, steps):
    before = copy.deepcopy(committed)
    expected = copy.deepcopy(committed)
    working = WorkingDict(committed)
    for path, action, value in steps:
        apply(expected, path, action, value)
        apply(working, path, action, value)
    assert committed == before, "the committed state was changed through the working copy"
    saved = saved_state(working, "svc")
    assert saved == expected
    assert committed == before
    assert not any(isinstance(v, WorkingDict) for v in saved.values())


def test_a_handler_copies_only_what_it_reads():
    orders = {f"o-{n}": {"status": "placed"} for n in range(10_000)}
    committed = {"orders": orders, "count": 10_000}
    working = WorkingDict(committed)
    working["orders"]["o-7"]["status"] = "paid"
    assert list(working["orders"].changed) == ["o-7"] and list(working.changed) == ["orders"]
    saved = saved_state(working, "order")
    assert saved["orders"]["o-7"] == {"status": "paid"}
    assert committed["orders"]["o-7"] == {"status": "placed"}
    assert saved["orders"]["o-8"] is orders["o-8"]  # untouched: shared, never handed out


def test_what_a_handler_put_in_is_copied_so_it_cannot_change_the_saved_state_later():
    record = {"status": "placed"}
    working = WorkingDict({"orders": {}})
    working["orders"]["o-1"] = record
    saved = saved_state(working, "order")
    record["status"] = "changed later"
    assert saved["orders"]["o-1"] == {"status": "placed"}


def test_ways_of_copying_a_working_dict_still_hand_out_copies():
    committed = {"orders": {"o-1": {"status": "placed"}}}
    working = WorkingDict(committed)
    for copied in (dict(working["orders"]), {**working["orders"]}, working["orders"].copy()):
        copied["o-1"]["status"] = "paid"
    assert committed["orders"]["o-1"]["status"] == "placed"


def test_one_object_put_in_two_places_is_refused_when_saved():
    working = WorkingDict({"orders": {"o-1": {"status": "placed"}}, "archive": {}})
    working["archive"]["o-1"] = working["orders"]["o-1"]
    with pytest.raises(InvalidState, match=r"state\['archive'\]\['o-1'\] is the same dict as "
                                           r"state\['orders'\]\['o-1'\]"):  # in change order
        saved_state(working, "order")


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(committed=state, steps=st.lists(step, max_size=12))
def test_committing_the_changes_in_place_gives_what_a_deep_copy_would_hold(committed, steps):
    expected = copy.deepcopy(committed)
    working = WorkingDict(committed)
    for path, action, value in steps:
        apply(expected, path, action, value)
        apply(working, path, action, value)
    changes = state_changes(working, "svc")
    top = committed
    commit_changes(committed, changes)
    assert committed == expected and committed is top


def test_a_commit_writes_into_the_committed_dicts_instead_of_copying_them():
    orders = {f"o-{n}": {"status": "placed"} for n in range(10_000)}
    committed = {"orders": orders}
    working = WorkingDict(committed)
    working["orders"]["o-7"]["status"] = "paid"
    assert working["orders"].changed == ["o-7"]  # holds what it reached, not 10,000 copies
    commit_changes(committed, state_changes(working, "order"))
    assert committed["orders"] is orders and orders["o-7"] == {"status": "paid"}


def test_heapq_on_a_state_list_commits_what_a_plain_list_would_hold():
    import heapq

    committed = {"queue": [1, 5]}
    working = WorkingDict(committed)
    queue = working["queue"]
    queue[0]  # a read, then the heap's own push, which moves items on the list directly
    heapq.heappush(queue, 0)
    assert queue == [0, 5, 1] and heapq.heappop(list(queue)) == 0
    commit_changes(committed, state_changes(working, "svc"))
    assert committed == {"queue": [0, 5, 1]}


def test_a_list_iterated_while_it_grows_visits_what_was_appended_like_a_list():
    committed = {"todo": [1, 2]}
    working = WorkingDict(committed)
    seen = []
    for item in working["todo"]:
        seen.append(item)
        if item < 3:
            working["todo"].append(item + 2)
    assert seen == [1, 2, 3, 4]


def test_a_sort_key_sees_the_handlers_copies_not_the_committed_items():
    committed = {"ledger": [{"n": 2}, {"n": 1}]}
    working = WorkingDict(committed)
    working["ledger"].sort(key=lambda entry: entry.setdefault("seen", entry["n"]))
    assert committed == {"ledger": [{"n": 2}, {"n": 1}]}
    commit_changes(committed, state_changes(working, "svc"))
    assert committed == {"ledger": [{"n": 1, "seen": 1}, {"n": 2, "seen": 2}]}
