"""What happened to one item, pieced together from every service (none holds it all)."""

from __future__ import annotations

from ... import vocabulary as words
from ...simulation import Simulation
from ...story import workflow_status
from .invariants import published, versions_with


def where_is_content(sim: Simulation, content_id: str) -> str:
    """One item's story, one line per service: what it did for each version, or why not yet."""
    status = workflow_status(sim, content_id)
    head = f"item {content_id}: {status}"
    if status == words.STUCK:
        head += " (nothing left to deliver, yet it was neither published nor deleted)"
    lines = [head]
    uploaded = sorted(versions_with(sim, content_id, "ContentUploaded"))
    stored = [key for key in sim.state("upload")["stored"] if key.startswith(f"{content_id}@")]
    lines.append(f"  upload       versions {list_of(uploaded)} uploaded; "
                 f"{len(stored)} file(s) stored")
    approved = versions_with(sim, content_id, "ModerationApproved")
    rejected = versions_with(sim, content_id, "ModerationRejected")
    lines.append(f"  moderation   approved {list_of(approved)}, rejected {list_of(rejected)}")
    done = versions_with(sim, content_id, "TranscodingComplete")
    failed = versions_with(sim, content_id, "TranscodingFailed")
    lines.append(f"  transcoding  transcoded {list_of(done)}, failed {list_of(failed)}")
    live = sim.state("publishing")["live"].get(content_id)
    shown = f"version {live['version']} live" if live else "not live"
    lines.append(f"  publishing   {shown} (published {list_of(published(sim, content_id))})")
    lines += [f"  dead letter: {letter}" for letter in sim.dead_letters
              if letter.envelope.correlation_id == content_id]
    return "\n".join(lines)


def list_of(versions: object) -> str:
    return ", ".join(f"v{v}" for v in sorted(versions)) or "none"  # type: ignore[call-overload]
