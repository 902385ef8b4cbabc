"""The four services of the pipeline, none calling another.

    creator --UploadRequested--> upload --ContentUploaded--> moderation
    moderation --ModerationApproved--> transcoding --TranscodingComplete--> publishing
    moderation --ModerationRejected--> upload         (delete the stored file, tell the creator)
    transcoding --TranscodingFailed--> upload         (the same clean-up)

Transcoding is slow (`TRANSCODE_TIME` of virtual time per video); the others are quick, so
it is the one to scale. What goes wrong is in the data: a file named ``flagged-...`` is
rejected by moderation, one named ``corrupt-...`` crashes the decoder on every attempt (a
poison message), and an edit uploads version 2 of an item while version 1 is on its way.

The switches build the naive versions the notebook starts from: `version_checks=False` (the
publisher overwrites whatever arrives last) and `cleans_up=False` (a rejection is ignored).
"""

from __future__ import annotations

from ...context import Context
from ...service import Service
from .events import (
    ContentPublished,
    ContentUploaded,
    ContentUploadedV2,
    DecoderUpgraded,
    ModerationApproved,
    ModerationRejected,
    TranscodingComplete,
    TranscodingFailed,
    UploadDeleted,
    UploadRequested,
)

MINUTE = 60 * 1000  # virtual ms
#: how long one video takes to transcode (virtual ms)
TRANSCODE_TIME = 3 * MINUTE
#: file endings the transcoder can read
VIDEO_FORMATS = (".mp4", ".mov", ".webm")


class CorruptFile(Exception):
    """The decoder crashed on a file it could not read."""


# -- upload: stores the files, and deletes them again when a version will not be published ----
def make_upload_service(*, cleans_up: bool = True, language: str | None = None) -> Service:
    """Upload stores each version's file; on a rejection or failure it deletes it and tells the
    creator. With a `language` it writes ContentUploaded with the newer schema (version 2)."""
    upload = Service("upload", {"stored": {}, "told": []})

    @upload.handles(UploadRequested, publishes=(ContentUploaded,))
    def store_file(event: UploadRequested, ctx: Context) -> ContentUploaded | ContentUploadedV2:
        ctx.state["stored"][f"{event.content_id}@v{event.version}"] = event.file
        fields = {"content_id": event.content_id, "version": event.version,
                  "creator": event.creator, "title": event.title, "file": event.file}
        if language is not None:
            return ContentUploadedV2(**fields, language=language)
        return ContentUploaded(**fields)

    def delete_upload(content_id: str, version: int, reason: str, ctx: Context) -> list[UploadDeleted]:
        if not cleans_up:
            return []
        ctx.state["stored"].pop(f"{content_id}@v{version}", None)
        ctx.state["told"].append({"content_id": content_id, "version": version, "reason": reason})
        return [UploadDeleted(content_id=content_id, version=version, reason=reason)]

    @upload.handles(ModerationRejected, publishes=(UploadDeleted,))
    def delete_rejected(event: ModerationRejected, ctx: Context) -> list[UploadDeleted]:
        return delete_upload(event.content_id, event.version, event.reason, ctx)

    @upload.handles(TranscodingFailed, publishes=(UploadDeleted,))
    def delete_unplayable(event: TranscodingFailed, ctx: Context) -> list[UploadDeleted]:
        return delete_upload(event.content_id, event.version, event.reason, ctx)

    return upload


# -- moderation: approves or rejects each version -------------------------------------------------
def make_moderation_service() -> Service:
    """Moderation rejects a flagged file and approves everything else (quickly)."""
    moderation = Service("moderation", {"decisions": {}})

    @moderation.handles(ContentUploaded, publishes=(ModerationApproved, ModerationRejected))
    def moderate(event: ContentUploaded,
                 ctx: Context) -> ModerationApproved | ModerationRejected:
        version = f"{event.content_id}@v{event.version}"
        if event.file.startswith("flagged"):
            ctx.state["decisions"][version] = "rejected"
            return ModerationRejected(content_id=event.content_id, version=event.version,
                                      reason="breaks the community guidelines")
        ctx.state["decisions"][version] = "approved"
        return ModerationApproved(content_id=event.content_id, version=event.version,
                                  file=event.file)

    return moderation


# -- transcoding: slow, scaled with competing consumers -----------------------------------------
def make_transcoding_service(*, instances: int = 1) -> Service:
    """Transcoding takes `TRANSCODE_TIME` per video; decoder 1 crashes on a corrupt file."""
    transcoding = Service("transcoding", {"decoder": 1, "renditions": {}}, instances=instances,
                          processing_time=TRANSCODE_TIME)

    @transcoding.handles(ModerationApproved, publishes=(TranscodingComplete, TranscodingFailed))
    def transcode(event: ModerationApproved,
                  ctx: Context) -> TranscodingComplete | TranscodingFailed:
        if not event.file.endswith(VIDEO_FORMATS):
            return TranscodingFailed(content_id=event.content_id, version=event.version,
                                     reason=f"{event.file} is not a video")
        if event.file.startswith("corrupt"):
            if ctx.state["decoder"] < 2:
                raise CorruptFile(f"decoder 1 crashed reading {event.file}")
            return TranscodingFailed(content_id=event.content_id, version=event.version,
                                     reason=f"{event.file} is corrupt")
        rendition = f"{event.content_id}-v{event.version}-720p.mp4"
        ctx.state["renditions"][f"{event.content_id}@v{event.version}"] = rendition
        return TranscodingComplete(content_id=event.content_id, version=event.version,
                                   rendition=rendition)

    @transcoding.handles(DecoderUpgraded)
    def upgrade_decoder(event: DecoderUpgraded, ctx: Context) -> None:
        ctx.state["decoder"] = max(ctx.state["decoder"], event.decoder)

    return transcoding


# -- publishing: makes the newest version live ----------------------------------------------------
def make_publishing_service(*, version_checks: bool = True) -> Service:
    """Publishing makes a transcoded version live - unless a newer one is live already.

    Without `version_checks` it makes live whatever arrives last: a late TranscodingComplete
    for version 1 then overwrites version 2.
    """
    publishing = Service("publishing", {"live": {}, "published": []})

    @publishing.handles(TranscodingComplete, publishes=(ContentPublished,))
    def publish_content(event: TranscodingComplete, ctx: Context) -> list[ContentPublished]:
        live = ctx.state["live"].get(event.content_id)
        if version_checks and live is not None and live["version"] >= event.version:
            return []  # a newer (or this very) version is live already: keep it
        ctx.state["live"][event.content_id] = {"version": event.version,
                                               "rendition": event.rendition}
        ctx.state["published"].append({"content_id": event.content_id, "version": event.version})
        return [ContentPublished(content_id=event.content_id, version=event.version)]

    return publishing
