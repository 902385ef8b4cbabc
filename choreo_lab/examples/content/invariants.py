"""The pipeline's invariants, checked over the services' own states.

Safety (at every moment):

- `nothing_rejected_is_published`: no version moderation rejected was ever made live.
- `published_once_never_older`: each version is published at most once, and a live item
  never goes back to an older version (a late TranscodingComplete must not win).

Convergence (once nothing is left to deliver for an item):

- `newest_version_is_live`: an item whose versions were approved and transcoded is live at
  the newest of them.
- `rejected_files_are_deleted`: no stored file is kept for a version that was rejected or
  could not be transcoded.
- `nothing_is_lost`: no message of the item waits in the dead letters (re-drive it).

An item's workflow ends when it is published or its upload deleted (declared outcomes).
"""

from __future__ import annotations

from collections.abc import Iterator

from ...consistency import Oracle, Violation
from ...simulation import Simulation


def content_ids(sim: Simulation) -> list[str]:
    """Every item the trace knows of (their workflows), in order of appearance."""
    return list(dict.fromkeys(envelope.correlation_id for envelope in sim.trace.messages.values()
                              if envelope.event_type == "UploadRequested"))


def quiet(sim: Simulation, content_id: str) -> bool:
    """Nothing about the item is left to deliver: no message on its way, waiting, or due."""
    return sim.open_messages(content_id) == 0


def ids_of(sim: Simulation, content_id: str, *event_types: str) -> tuple[str, ...]:
    return tuple(e.message_id for e in sim.trace.messages_of(content_id)
                 if e.event_type in event_types)


def versions_with(sim: Simulation, content_id: str, event_type: str) -> set[int]:
    """The versions of an item for which an event of `event_type` was published."""
    return {e.event.version for e in sim.trace.messages_of(content_id)  # type: ignore[attr-defined]
            if e.event_type == event_type}


def published(sim: Simulation, content_id: str) -> list[int]:
    """The versions publishing made live for an item, in the order it did."""
    state = sim.state("publishing") if "publishing" in sim.services else {}
    return [entry["version"] for entry in state.get("published", [])
            if entry["content_id"] == content_id]


def nothing_rejected_is_published(sim: Simulation) -> Iterator[Violation]:
    """No version that moderation rejected is, or ever was, live."""
    for content_id in content_ids(sim):
        rejected = versions_with(sim, content_id, "ModerationRejected")
        for version in sorted(rejected & set(published(sim, content_id))):
            yield Violation(
                "nothing rejected is published", content_id,
                f"version {version} of {content_id} was rejected by moderation, yet publishing "
                "made it live; only an approved, transcoded version may be published",
                ids_of(sim, content_id, "ModerationRejected", "ContentPublished"))


def published_once_never_older(sim: Simulation) -> Iterator[Violation]:
    """Each version published at most once; a live item never goes back to an older version."""
    for content_id in content_ids(sim):
        newest = 0
        seen: set[int] = set()
        for version in published(sim, content_id):
            if version in seen:
                yield Violation(
                    "published once, never older", content_id,
                    f"publishing published version {version} of {content_id} twice; a "
                    "repeated TranscodingComplete must change nothing",
                    ids_of(sim, content_id, "TranscodingComplete", "ContentPublished"))
                break
            if version < newest:
                yield Violation(
                    "published once, never older", content_id,
                    f"version {version} of {content_id} overwrote the newer version {newest} "
                    "that was live: a late TranscodingComplete won. Compare versions, and "
                    "keep the newer one",
                    ids_of(sim, content_id, "TranscodingComplete", "ContentPublished"))
                break
            seen.add(version)
            newest = max(newest, version)


def newest_version_is_live(sim: Simulation) -> Iterator[Violation]:
    """Once quiet, an item with a transcoded version is live at the newest such version."""
    if "publishing" not in sim.services:
        return
    for content_id in content_ids(sim):
        transcoded = versions_with(sim, content_id, "TranscodingComplete")
        if not transcoded or not quiet(sim, content_id):
            continue
        live = sim.state("publishing")["live"].get(content_id, {}).get("version")
        if live != max(transcoded):
            shown = f"version {live}" if live is not None else "nothing"
            yield Violation(
                "newest version is live", content_id,
                f"{content_id} was transcoded up to version {max(transcoded)}, but {shown} is "
                "live, and nothing is left to deliver",
                ids_of(sim, content_id, "TranscodingComplete", "ContentPublished"), "convergence")


def rejected_files_are_deleted(sim: Simulation) -> Iterator[Violation]:
    """Once quiet, no file is stored for a version that was rejected or failed to transcode."""
    if "upload" not in sim.services:
        return
    stored = sim.state("upload")["stored"]
    for content_id in content_ids(sim):
        if not quiet(sim, content_id):
            continue
        dropped = (versions_with(sim, content_id, "ModerationRejected")
                   | versions_with(sim, content_id, "TranscodingFailed"))
        for version in sorted(dropped):
            if f"{content_id}@v{version}" in stored:
                yield Violation(
                    "rejected files are deleted", content_id,
                    f"the upload of version {version} of {content_id} will never be published, "
                    "yet its file is still stored; on ModerationRejected (or TranscodingFailed) "
                    "the upload service must delete it and tell the creator",
                    ids_of(sim, content_id, "ModerationRejected", "TranscodingFailed"),
                    "convergence")


def nothing_is_lost(sim: Simulation) -> Iterator[Violation]:
    """Once nothing is left to deliver for an item, no message of its waits in the dead letters."""
    for letter in sim.dead_letters:
        content_id = letter.envelope.correlation_id
        if content_id in content_ids(sim) and quiet(sim, content_id):
            yield Violation(
                "nothing is lost", content_id,
                f"{letter.group} gave up on {letter.envelope.event_type} "
                f"{letter.envelope.message_id} after {letter.attempts} attempts "
                f"({letter.reason}); it waits in the dead letters: fix the cause, then re-drive it",
                (letter.envelope.message_id,), "convergence")


CONTENT_INVARIANTS = (nothing_rejected_is_published, published_once_never_older,
                      newest_version_is_live, rejected_files_are_deleted, nothing_is_lost)


def content_oracle() -> Oracle:
    """The pipeline's oracle: its invariants over its items. An item's workflow is finished once
    it was published or its upload deleted, and nothing of it is left to deliver."""
    from .whereabouts import where_is_content
    return Oracle(CONTENT_INVARIANTS, content_ids,
                  describe=lambda sim, content_id: where_is_content(sim, content_id).splitlines()[0])
