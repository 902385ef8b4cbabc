"""The content pipeline's events: past tense, payload only, roles declared.

An item (a video) is one workflow: its id is the correlation id and the partition key of
all its messages, so its versions travel in order. A failure event says a step could not
be done (the upload is cleaned up); an outcome ends the item's workflow.
"""

from __future__ import annotations

from ...events import Event


class UploadRequested(Event):
    """A creator sent a file, or an edited version of it (from outside the system)."""
    content_id: str
    version: int
    creator: str
    title: str
    file: str


class ContentUploaded(Event):
    """The upload service stored the file of one version of an item."""
    content_id: str
    version: int
    creator: str
    title: str
    file: str


class ModerationApproved(Event):
    content_id: str
    version: int
    file: str


class ModerationRejected(Event, role="failure"):
    content_id: str
    version: int
    reason: str


class TranscodingComplete(Event):
    """The video was turned into something every device can play (its `rendition`)."""
    content_id: str
    version: int
    rendition: str


class TranscodingFailed(Event, role="failure"):
    content_id: str
    version: int
    reason: str


class ContentPublished(Event, outcome="completed"):
    """The item is live, at this version."""
    content_id: str
    version: int


class UploadDeleted(Event, role="compensation", outcome="compensated"):
    """The upload service deleted the stored file of a version that will not be published,
    and told the creator why."""
    content_id: str
    version: int
    reason: str


class DecoderUpgraded(Event, outcome="completed"):
    """Operations deployed a decoder that reports a corrupt file instead of crashing on it
    (its own one-step workflow, done once published)."""
    decoder: int


CONTENT_EVENTS: tuple[type[Event], ...] = (
    UploadRequested, ContentUploaded, ModerationApproved, ModerationRejected, TranscodingComplete,
    TranscodingFailed, ContentPublished, UploadDeleted, DecoderUpgraded)


class ContentUploadedV2(Event, name="ContentUploaded", schema_version=2):
    """The upload service's newer schema: it also says what language the video speaks.

    Consumers still holding version 1 read it (they ignore `language`); the default lets
    consumers holding version 2 read messages an older upload service wrote.
    """
    content_id: str
    version: int
    creator: str
    title: str
    file: str
    language: str = "und"  # "undetermined", the ISO 639 code for "not said"
