"""A list of a handler's state reads like the list it stands for, in every way Python reads one.

After `ctx.state["ledger"].append(entry)`, any way of reading the list - Python's own
functions included, some of which read a list's items directly - sees the committed items
in front of the appended ones, exactly as a deep copy would; and a new list made from it
(a copy, a sum, a product) holds the handler's copies, never a committed item.
"""

from __future__ import annotations

import collections
import copy
import json
import pickle

import pytest

from choreo_lab.state import WorkingDict, WorkingList, commit_changes, state_changes

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


def appended_to() -> WorkingList:
    working = WorkingList(list(COMMITTED))
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
    one, other = WorkingList([1, 2]), WorkingList([1, 2])
    one.append(3)
    other.append(3)
    assert one == other and not one != other and one <= other


@pytest.mark.parametrize("plain, working", [({"o-1": []}, WorkingDict({"o-1": []})),
                                            (["a"], WorkingList(["a"]))])
def test_a_missing_method_is_named_as_a_plain_dict_or_list_names_it(plain, working):
    errors = []
    for value in (plain, working):
        with pytest.raises(AttributeError) as raised:
            value.add("x")  # e.g. a dict used as a list, or a list as a set
        errors.append((str(raised.value), raised.value.name))
    assert errors[0] == errors[1] == (f"'{type(plain).__name__}' object has no attribute 'add'",
                                      "add")
    assert not hasattr(working, "_repr_html_") and hasattr(working, "copy")
