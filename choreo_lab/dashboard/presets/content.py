"""The pipeline's dashboard: upload a normal, flagged or corrupt video, edit the latest one,
deploy the fixed decoder; scale transcoding and re-drive dead letters on the generic board,
and watch transcoding's backlog and its age grow and fall (a view at the bottom)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...examples import content
from ...faults import FaultPlan
from ...simulation import Simulation
from ..board import Dashboard, workflow_statuses
from ..snapshot import ConsistencyOracle
from ..views import BacklogAgeView

#: the upload buttons: label -> the start of the file's name (what makes it fail, if anything)
UPLOADS: dict[str, str] = {"Upload a video": "", "Upload a flagged video": "flagged-",
                           "Upload a corrupt video": "corrupt-"}

#: play speeds in minutes (one transcode is 3 virtual minutes; 4 ticks a second)
SPEEDS: tuple[tuple[str, int], ...] = (("10 s per tick", 10_000), ("1 min per tick", 60_000),
                                       ("3 min per tick", 180_000))


def item_statuses(sim: Simulation) -> dict[str, str]:
    """Each uploaded item's status; operations' messages (Deploy decoder 2) are no workflow."""
    items = set(content.content_ids(sim))
    return {item: status for item, status in workflow_statuses(sim).items() if item in items}


class ContentDashboard(Dashboard):
    """The dashboard over the publishing pipeline. `transcoders`: instances to start with;
    `sim_options` go to `Simulation`."""

    def __init__(self, seed: int = 0, *, oracle: ConsistencyOracle | None = None,
                 transcoders: int = 1, latency: int = 10, jitter: int = 4,
                 **sim_options: Any) -> None:
        def system(seed: int, faults: FaultPlan) -> Simulation:
            services = content.content_services(transcoders=transcoders)
            return content.content_system(seed, services=services, latency=latency,
                                          jitter=jitter, **{"faults": faults, **sim_options})

        actions: dict[str, Callable[[Simulation], object]] = {
            label: self._upload_action(prefix) for label, prefix in UPLOADS.items()}
        actions["Edit the latest video"] = self._edit
        actions["Deploy decoder 2"] = content.upgrade_decoder
        super().__init__(system, seed=seed,
                         oracle=oracle if oracle is not None else content.content_oracle(),
                         workflows=item_statuses, actions=actions, scalable=["transcoding"],
                         views={"Transcoding: backlog and its age": BacklogAgeView(["transcoding"])},
                         title="Content publishing: moderation, slow transcoding, publishing",
                         speeds=SPEEDS)
        self.controls.speed.value = 60_000  # a video is transcoded in three ticks

    def upload(self, kind: str = "video") -> str:
        """Upload a new item (v-1, v-2, ...): ``kind`` is "video", "flagged" or "corrupt"."""
        label = "Upload a video" if kind == "video" else f"Upload a {kind} video"
        if label not in UPLOADS:
            raise ValueError(f"no upload kind {kind!r}; choose video, flagged or corrupt")
        return str(self.act(label))

    def edit_latest(self) -> str:
        """The creator uploads the next version of the latest item; returns its id."""
        return str(self.act("Edit the latest video"))

    def oldest_waiting(self, name: str = "transcoding") -> int:
        """How long the oldest message waiting for a service has waited (virtual ms)."""
        return self.sim.oldest_waiting(name)

    def _upload_action(self, prefix: str) -> Callable[[Simulation], str]:
        def upload(sim: Simulation) -> str:
            number = len(content.content_ids(sim)) + 1
            content_id = f"v-{number}"
            content.upload(sim, content_id, file=f"{prefix}clip-{number}.mp4",
                           creator=content.CREATORS[number % len(content.CREATORS)])
            return content_id
        return upload

    def _edit(self, sim: Simulation) -> str:
        items = content.content_ids(sim)
        if not items:
            raise ValueError("nothing is uploaded yet: click Upload a video first")
        versions = [e.event.version for e in sim.trace.messages_of(items[-1])  # type: ignore[attr-defined]
                    if e.event_type == "UploadRequested"]
        content.edit(sim, items[-1], max(versions) + 1)
        return items[-1]


def content_dashboard(seed: int = 0, **options: Any) -> ContentDashboard:
    """The pipeline's dashboard, ready to display: ``content_dashboard(seed=7)``."""
    return ContentDashboard(seed, **options)
