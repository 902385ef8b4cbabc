"""Schema evolution: adding a field with a default is safe; removing, renaming, retyping or
adding a required field is a breaking change."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import create_model

from choreo_lab import Event
from choreo_lab.schemas import breaking_changes


class ClipUploaded(Event):
    clip_id: str
    version: int


class ClipUploadedV2(Event, name="ClipUploaded", schema_version=2):
    clip_id: str
    version: int
    language: str = "en"


class ClipUploadedRenamed(Event, name="ClipUploaded", schema_version=3):
    item_id: str
    version: int


class ClipUploadedRetyped(Event, name="ClipUploaded", schema_version=4):
    clip_id: str
    version: str


class ClipUploadedNeedsLanguage(Event, name="ClipUploaded", schema_version=5):
    clip_id: str
    version: int
    language: str


def test_adding_a_field_with_a_default_breaks_nobody_and_old_readers_still_read():
    assert breaking_changes(ClipUploaded, ClipUploadedV2) == []
    new = ClipUploadedV2(clip_id="v-1", version=1, language="fr")
    assert ClipUploaded.read(new) == ClipUploaded(clip_id="v-1", version=1)


def test_a_rename_a_type_change_and_a_required_new_field_are_each_named():
    [renamed] = [p for p in breaking_changes(ClipUploaded, ClipUploadedRenamed) if "clip_id" in p]
    assert "removed or renamed" in renamed
    assert "'item_id' was added without a default" in " ".join(
        breaking_changes(ClipUploaded, ClipUploadedRenamed))
    assert breaking_changes(ClipUploaded, ClipUploadedRetyped) == [
        "'version' changed type from int to str: one side cannot read the other's values"]
    assert "'language' was added without a default" in breaking_changes(
        ClipUploaded, ClipUploadedNeedsLanguage)[0]


def test_breaking_changes_refuses_what_is_not_a_model_class():
    with pytest.raises(TypeError, match="two model classes"):
        breaking_changes(ClipUploaded, ClipUploaded(clip_id="a", version=1))  # type: ignore[arg-type]


names = st.sets(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=5)
types_ = st.sampled_from([str, int, float])


@given(fields=st.dictionaries(st.sampled_from("abcde"), types_), added=names)
def test_adding_defaulted_fields_is_never_breaking_and_removing_a_required_one_always_is(
        fields, added):
    old = create_model("Old", **{name: (kind, ...) for name, kind in fields.items()})
    extra = {name: (str, "x") for name in added if name not in fields}
    new = create_model("New", **{name: (kind, ...) for name, kind in fields.items()}, **extra)
    assert breaking_changes(old, new) == []
    for name in fields:
        fewer = create_model("Fewer", **{n: (k, ...) for n, k in fields.items() if n != name})
        assert any(repr(name) in problem for problem in breaking_changes(old, fewer))
