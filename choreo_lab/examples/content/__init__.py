"""The content-publishing pipeline: upload, moderation, slow transcoding, publishing.

Read in this order: `events` (what happens to an item, roles declared), `services` (upload,
moderation, transcoding - the slow one - and publishing), `pipeline` (running them together,
creators uploading and editing), then `invariants` and `whereabouts`.
"""

from __future__ import annotations

from .events import (
    CONTENT_EVENTS,
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
from .invariants import CONTENT_INVARIANTS, content_ids, content_oracle
from .pipeline import (
    CREATORS,
    content_services,
    content_system,
    edit,
    random_uploads,
    upgrade_decoder,
    upload,
    upload_all,
)
from .services import (
    MINUTE,
    TRANSCODE_TIME,
    CorruptFile,
    make_moderation_service,
    make_publishing_service,
    make_transcoding_service,
    make_upload_service,
)
from .whereabouts import where_is_content

__all__ = [
    "CONTENT_EVENTS", "CONTENT_INVARIANTS", "CREATORS", "MINUTE", "TRANSCODE_TIME",
    "ContentPublished", "ContentUploaded", "ContentUploadedV2", "CorruptFile", "DecoderUpgraded", "ModerationApproved",
    "ModerationRejected", "TranscodingComplete", "TranscodingFailed", "UploadDeleted",
    "UploadRequested", "content_ids", "content_oracle", "content_services", "content_system",
    "edit", "make_moderation_service", "make_publishing_service", "make_transcoding_service",
    "make_upload_service", "random_uploads", "upgrade_decoder", "upload", "upload_all",
    "where_is_content",
]
