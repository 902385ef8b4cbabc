"""A list of a handler's state reads like the list it stands for, in every way Python reads one.

After `ctx.state["ledger"].append(entry)`, any way of reading the list - Python's own
functions included, some of which read a list's items directly - sees the committed items
in front of the appended ones, exactly as a deep copy would; and nothing reached through
it (a copy, a sum, a product, what heapq hands out) is a committed item.
"""

from __future__ import annotations

import collections
import copy
import json
import pickle

import pytest

from choreo_lab.state import WorkingDict, commit_changes, state_changes

COMMITTED = ["b", "a", "c"]
APPENDED = ["e", "d"]


def _extended(xs):
    plain = [0]
    plain.extend(xs)
    return plain


def _slice_assigned(xs):
    plain = [0, 1]
    plain[1:1] = xs
    return plain


READS = {
    "len": len, "bool": bool, "list": list, "tuple": tuple, "sorted": sorted, "set": set,
    "reversed": lambda xs: list(reversed(xs)), "slice": lambda xs: xs[1:4], "index -1": lambda xs: xs[-1],
    "json": json.dumps, "join": "-".join, "repr": repr, "str": str, "max": max,
    "unpack": lambda xs: [*xs], "star-call": lambda xs: (lambda *args: args)(*xs),
    "enumerate": lambda xs: list(enumerate(xs)), "zip": lambda xs: list(zip(xs, xs)),
    "Counter": collections.Counter, "in": lambda xs: ("a" in xs, "d" in xs, "z" in xs),
    "index": lambda xs: xs.index("c"), "count": lambda xs: xs.count("a"),
    "eq": lambda xs: xs == ["b", "a", "c", "e", "d"], "eq reflected": lambda xs: ["b"] == xs,
    "lt": lambda xs: xs < ["c"], "add": lambda xs: xs + ["f"], "radd": lambda xs: ["f"] + xs,
    "mul": lambda xs: xs * 2, "rmul": lambda xs: 2 * xs, "copy": lambda xs: xs.copy(),
    "copy.copy": lambda xs: list(copy.copy(xs)), "deepcopy": lambda xs: list(copy.deepcopy(xs)),
    "pickle": lambda xs: list(pickle.loads(pickle.dumps(xs))),
    "extend a list": _extended,
    "slice-assign a list": _slice_assigned,
}


def read_list(committed: list) -> list:
    """The list as a handler reads it from its state."""
    return WorkingDict({"xs": committed})["xs"]


def appended_to() -> list:
    working = read_list(list(COMMITTED))
    for item in APPENDED:
        working.append(item)
    return working


@pytest.mark.parametrize("read", sorted(READS))
def test_a_list_only_appended_to_reads_like_the_whole_list(read):
    expected = READS[read](COMMITTED + APPENDED)
    assert READS[read](appended_to()) == expected


def test_reading_after_appending_hands_out_copies_never_the_committed_items():
    committed = {"ledger": [{"kind": "charge"}]}
    working = WorkingDict(committed)
    working["ledger"].append({"kind": "refund"})
    for leaked in (working["ledger"].copy()[0], (working["ledger"] + [])[0],
                   (working["ledger"] * 1)[0], ([] + working["ledger"])[0]):
        leaked["kind"] = "changed"
    assert committed == {"ledger": [{"kind": "charge"}]}
    saved = state_changes(working, "payment")
    commit_changes(committed, saved)
    assert committed["ledger"] == [{"kind": "changed"}, {"kind": "refund"}]


def test_two_lists_compare_as_they_stand():
    one, other = read_list([1, 2]), read_list([1, 2])
    one.append(3)
    other.append(3)
    assert one == other and not one != other and one <= other


@pytest.mark.parametrize("plain, working", [({"o-1": []}, WorkingDict({"o-1": []})),
                                            (["a"], read_list(["a"]))])
def test_a_missing_method_is_named_as_a_plain_dict_or_list_names_it(plain, working):
    errors = []
    for value in (plain, working):
        with pytest.raises(AttributeError) as raised:
            value.add("x")  # e.g. a dict used as a list, or a list as a set
        errors.append((str(raised.value), raised.value.name))
    assert errors[0] == errors[1] == (f"'{type(plain).__name__}' object has no attribute 'add'",
                                      "add")
    assert not hasattr(working, "_repr_html_") and hasattr(working, "copy")


def test_what_heapq_hands_out_is_the_handlers_own_never_a_committed_item():
    import heapq

    committed = {"queue": [[1, "a"], [5, "b"]]}
    working = WorkingDict(committed)
    first = heapq.heappop(working["queue"])  # taken off the list's storage directly
    first[0] = 99
    assert committed == {"queue": [[1, "a"], [5, "b"]]}


def test_items_heapq_moved_are_committed_as_plain_values_where_they_now_stand():
    import heapq

    committed = {"queue": [[1, "a"], [5, "b"], [9, "c"]]}
    working = WorkingDict(committed)
    queue = working["queue"]
    queue[2][0] = 0                      # changed through the list, then moved by heapq
    heapq.heapify(queue)
    heapq.heappush(queue, [3, "d"])      # pushed on the list's storage directly
    commit_changes(committed, state_changes(working, "svc"))
    assert committed == {"queue": [[0, "c"], [3, "d"], [1, "a"], [5, "b"]]}
    assert all(type(item) is list for item in committed["queue"])


def test_what_heapq_pushes_is_checked_as_any_value_put_in():
    import heapq

    from choreo_lab.errors import InvalidState

    working = WorkingDict({"queue": [(1, "a")]})
    heapq.heappush(working["queue"], (2, object()))
    with pytest.raises(InvalidState, match=r"state\['queue'\]\[1\]\[1\] is object"):
        state_changes(working, "svc")


def test_a_state_dict_copies_and_pickles_as_the_plain_dict_it_stands_for():
    committed = {"ledger": {"o-1": [{"kind": "charge", "amount": 3}]}, "seen": ["m1"]}
    working = WorkingDict(committed)
    working["ledger"]["o-1"].append({"kind": "refund", "amount": 3})
    expected = {"ledger": {"o-1": [{"kind": "charge", "amount": 3}, {"kind": "refund", "amount": 3}]},
                "seen": ["m1"]}
    for copied in (copy.deepcopy(working), pickle.loads(pickle.dumps(working)),
                   copy.deepcopy(working["ledger"]["o-1"])):
        assert type(copied) in (dict, list)
        assert copied == (expected if type(copied) is dict else expected["ledger"]["o-1"])
        assert "Working" not in repr(pickle.dumps(copied))
    shallow = copy.copy(working["ledger"])
    assert type(shallow) is dict and shallow == expected["ledger"]
    assert committed["ledger"]["o-1"] == [{"kind": "charge", "amount": 3}]


def test_json_writes_a_state_dict_whole_even_before_anything_is_read():
    committed = {"charges": {"o-1": 5}, "ledger": {"o-1": [{"kind": "charge"}]}, "none": {}}
    working = WorkingDict(committed)
    assert json.dumps(working) == json.dumps(committed)
    assert json.dumps(working["ledger"]["o-1"]) == '[{"kind": "charge"}]'
    working.clear()
    assert json.dumps(working) == "{}"


def test_items_and_values_are_views_as_a_dicts_are():
    committed = {"a": 1, "b": {"x": 2}}
    working = WorkingDict(committed)
    items, values = working.items(), working.values()
    working["c"] = 3
    assert items == {"a": 1, "b": {"x": 2}, "c": 3}.items() and len(values) == 3
    assert items & {("a", 1)} == {("a", 1)} and list(values)[1] == {"x": 2}


def test_what_a_comparison_hands_the_other_side_is_the_handlers_copy():
    class Grabs:
        def __eq__(self, other):
            other["stolen"] = True
            return False

    committed = {"charges": {"o-1": 5}}
    assert not WorkingDict(committed) == {"charges": Grabs()}
    assert committed == {"charges": {"o-1": 5}}
