"""The pipeline run together: a simulation of its four services, and creators uploading
(and editing) items, seeded."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from ...envelope import Envelope
from ...service import Service
from ...simulation import Simulation
from .events import DecoderUpgraded, UploadRequested
from .services import (
    make_moderation_service,
    make_publishing_service,
    make_transcoding_service,
    make_upload_service,
)

CREATORS: tuple[str, ...] = ("ada", "grace", "alan", "barbara", "edsger", "margaret")
TITLES: tuple[str, ...] = ("cat video", "cooking pasta", "bike repair", "sunset timelapse",
                           "guitar lesson", "chess opening")


def content_services(*, version_checks: bool = True, cleans_up: bool = True,
                     transcoders: int = 1, **replacements: Service) -> list[Service]:
    """Upload, moderation, transcoding and publishing. ``publishing=my_publisher`` swaps one in."""
    services: dict[str, Service] = {
        "upload": make_upload_service(cleans_up=cleans_up),
        "moderation": make_moderation_service(),
        "transcoding": make_transcoding_service(instances=transcoders),
        "publishing": make_publishing_service(version_checks=version_checks),
    }
    for name, service in replacements.items():
        if name not in services:
            raise ValueError(f"no service {name!r} to replace; the pipeline has "
                             f"{', '.join(services)}")
        services[name] = service
    return list(services.values())


def content_system(seed: int | str = 0, *, services: list[Service] | None = None,
                   **options: Any) -> Simulation:
    """A simulation of the pipeline. `options` go to `Simulation` (latency, faults, ...)."""
    return Simulation(services if services is not None else content_services(),
                      seed=seed, **options)


def upload(sim: Simulation, content_id: str, *, version: int = 1, file: str = "clip.mp4",
           creator: str = "ada", title: str = "cat video") -> Envelope:
    """A creator uploads a file: version 1 of a new item, or a later version (an edit).

    A file named ``flagged-...`` is rejected by moderation; ``corrupt-...`` crashes the decoder.
    """
    return sim.publish(UploadRequested(content_id=content_id, version=version, creator=creator,
                                       title=title, file=file),
                       key=content_id, correlation_id=content_id, producer="creator")


def edit(sim: Simulation, content_id: str, version: int, *, file: str = "clip-edited.mp4",
         creator: str = "ada") -> Envelope:
    """The creator uploads `version` of an item they uploaded before (say, while it transcodes)."""
    return upload(sim, content_id, version=version, file=file, creator=creator)


def upgrade_decoder(sim: Simulation) -> Envelope:
    """Operations deploy decoder 2, which reports a corrupt file instead of crashing on it."""
    return sim.publish(DecoderUpgraded(decoder=2), key="decoder", correlation_id="operations",
                       producer="operations")


def random_uploads(count: int, seed: int | str = 0, *, flagged_rate: float = 0.15,
                   corrupt_rate: float = 0.0, edit_rate: float = 0.2) -> list[dict[str, Any]]:
    """`count` items (v-1, v-2, ...), each a dict of `upload`'s arguments; about `edit_rate` of
    them are edited at once (a second dict, version 2). Some files are flagged or corrupt."""
    rng = random.Random(f"uploads/{seed}")
    uploads: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        roll = rng.random()
        kind = ("flagged-" if roll < flagged_rate
                else "corrupt-" if roll < flagged_rate + corrupt_rate else "")
        item = {"content_id": f"v-{n}", "creator": rng.choice(CREATORS),
                "title": rng.choice(TITLES), "file": f"{kind}clip-{n}.mp4"}
        uploads.append(item)
        if rng.random() < edit_rate:
            uploads.append({**item, "version": 2, "file": f"clip-{n}-edited.mp4"})
    return uploads


def upload_all(sim: Simulation, uploads: Iterable[dict[str, Any]]) -> list[Envelope]:
    """Upload each item (as `random_uploads` makes them), all at once: a burst."""
    return [upload(sim, **item) for item in uploads]
