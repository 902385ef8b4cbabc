"""Schema evolution: is a new version of a message's schema safe for the services that hold
the old one?

    class ContentUploadedV2(Event, name="ContentUploaded", schema_version=2):
        ...                                   # the same fields, plus `language: str = "en"`
    breaking_changes(ContentUploaded, ContentUploadedV2)   # [] : safe to roll out

During a rollout producers and consumers hold different versions. A reader ignores fields it
does not know (the tolerant reader, `Message.read`), so adding a field is safe. These are not:

- removing or renaming a field an old reader needs (it has no default there): old readers
  can no longer read new messages;
- changing a field's type: one side reads a value it cannot validate;
- adding a field without a default: new readers cannot read messages old producers write.

The check compares the two pydantic models; nothing runs at publish time.
"""

from __future__ import annotations

from pydantic import BaseModel


def breaking_changes(old: type[BaseModel], new: type[BaseModel]) -> list[str]:
    """What in `new` would break a service holding `old` (or reading old messages with `new`),
    one sentence each; an empty list means the change is safe both ways."""
    for given in (old, new):
        if not (isinstance(given, type) and issubclass(given, BaseModel)):
            raise TypeError(f"breaking_changes() compares two model classes (old, new), got "
                            f"{given!r}")
    before, after = old.model_fields, new.model_fields
    problems = []
    for field, info in before.items():
        if field not in after:
            if info.is_required():
                problems.append(f"{field!r} was removed or renamed: readers of the old schema "
                                "require it and cannot read the new messages")
        elif after[field].annotation != info.annotation:
            problems.append(f"{field!r} changed type from {type_name(info.annotation)} to "
                            f"{type_name(after[field].annotation)}: one side cannot read the "
                            "other's values")
    for field, info in after.items():
        if field not in before and info.is_required():
            problems.append(f"{field!r} was added without a default: readers of the new schema "
                            "cannot read messages written with the old one; give it a default")
    return problems


def type_name(annotation: object) -> str:
    return getattr(annotation, "__name__", None) or str(annotation)
