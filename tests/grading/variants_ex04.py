"""Exercise 4's other answers: known-wrong publishers and clean-ups, and correct ones written
differently."""

from __future__ import annotations

from .variants import Variant

PUBLISHING = '''
def make_publishing_service() -> Service:
    publishing = Service("publishing", {{"live": {{}}, "published": []}})

    @publishing.handles(TranscodingComplete, publishes=(ContentPublished,))
    def publish_content(event, ctx):
{body}
        ctx.state["live"][event.content_id] = {{"version": event.version,
                                               "rendition": event.rendition}}
        ctx.state["published"].append({{"content_id": event.content_id, "version": event.version}})
        return [ContentPublished(content_id=event.content_id, version=event.version)]

    return publishing
'''
UPLOAD = '''
def make_upload_service() -> Service:
    upload = Service("upload", {{"stored": {{}}, "told": []}})

    @upload.handles(UploadRequested, publishes=(ContentUploaded,))
    def store_file(event, ctx):
        ctx.state["stored"][f"{{event.content_id}}@v{{event.version}}"] = event.file
        return ContentUploaded(content_id=event.content_id, version=event.version,
                               creator=event.creator, title=event.title, file=event.file)

    def delete_upload(content_id, version, reason, ctx):
{body}

    @upload.handles(ModerationRejected, publishes=(UploadDeleted,))
    def delete_rejected(event, ctx):
        return delete_upload(event.content_id, event.version, event.reason, ctx)

    @upload.handles(TranscodingFailed, publishes=(UploadDeleted,))
    def delete_unplayable(event, ctx):
        return delete_upload(event.content_id, event.version, event.reason, ctx)

    return upload
'''
CHAOS = "keeps every invariant of the pipeline over 30 seeded fault schedules"
MORE_CHAOS = "keeps every invariant over 40 more seeded fault schedules"
TELL = '''        ctx.state["told"].append({"content_id": content_id, "version": version, "reason": reason})
        return [UploadDeleted(content_id=content_id, version=version, reason=reason)]'''

LAST_WRITER_WINS = Variant("makes live whatever arrives last", "ex04-content-publishing", {
    "publishing_service": PUBLISHING.format(body="        pass")},
    {"keeps the newer version live when the older one's message arrives late": "never overwrite",
     "publishes a version once when its message comes twice": "compare with >=",
     "keeps the newest of three versions under reorders and repeats": "compare versions",
     CHAOS: "published once, never older", MORE_CHAOS: "published once, never older"})

STRICTLY_NEWER = Variant("compares versions with >, so a repeat is published again",
                         "ex04-content-publishing", {
    "publishing_service": PUBLISHING.format(body='''        live = ctx.state["live"].get(event.content_id)
        if live is not None and live["version"] > event.version:
            return []''')},
    {"publishes a version once when its message comes twice": "compare with >=",
     CHAOS: "twice", MORE_CHAOS: "twice"})

NO_CLEAN_UP = Variant("ignores rejections", "ex04-content-publishing", {
    "upload_service": UPLOAD.format(body="        return []")},
    {"deletes a rejected upload's file and tells the creator, and keeps the others": "still stored",
     "deletes only the rejected version's file, not the live one's": "still stored",
     "tells the creator once when the rejection comes twice": "still stored",
     "cleans up an unplayable file and a rejected edit of the same item": "still stored",
     CHAOS: "rejected files are deleted", MORE_CHAOS: "rejected files are deleted"})

TELLS_AGAIN = Variant("tells the creator again on a repeated rejection", "ex04-content-publishing", {
    "upload_service": UPLOAD.format(body='''        ctx.state["stored"].pop(f"{content_id}@v{version}", None)
''' + TELL)},
    {"tells the creator once when the rejection comes twice": "told once",
     "cleans up an unplayable file and a rejected edit of the same item": "told once"})

DELETES_EVERY_VERSION = Variant("deletes every version's file of a rejected item",
                                "ex04-content-publishing", {
    "upload_service": UPLOAD.format(body='''        if any(e["content_id"] == content_id and e["version"] == version
               for e in ctx.state["told"]):
            return []
        for key in [k for k in ctx.state["stored"] if k.startswith(content_id + "@")]:
            del ctx.state["stored"][key]
''' + TELL)},
    {"deletes only the rejected version's file, not the live one's": "keyed by item and version"})

WRITTEN_DIFFERENTLY = Variant("a correct publisher and clean-up written differently",
                              "ex04-content-publishing", {
    "publishing_service": '''
def make_publishing_service():
    publishing = Service("publishing", {"live": {}, "published": []})

    @publishing.handles(TranscodingComplete, publishes=(ContentPublished,))
    def publish_content(event, ctx):
        newest = ctx.state["live"].get(event.content_id, {"version": 0})["version"]
        if event.version <= newest:
            return None
        ctx.state["live"][event.content_id] = {"version": event.version,
                                               "rendition": event.rendition}
        ctx.state["published"] += [{"content_id": event.content_id, "version": event.version}]
        return ContentPublished(content_id=event.content_id, version=event.version)

    return publishing
''',
    "upload_service": UPLOAD.format(body='''        key = f"{content_id}@v{version}"
        if key not in ctx.state["stored"]:
            return []   # deleted already (or never stored): the creator was told then
        del ctx.state["stored"][key]
''' + TELL)})

#: "a redelivery is a repeat": both services skip every redelivery by its attempt number and
#: keep no record of what they handled (publishing compares with >, the upload service keeps no
#: `told` check). A redelivery after a lost delivery or a crash before the commit is the first
#: real handling, and they throw it away. It deserves what the same code without the attempt
#: test scores (STRICTLY_NEWER and TELLS_AGAIN together): the checks of "once" fail.
TRUSTS_THE_ATTEMPT_COUNT = Variant(
    "publishing and upload trust the attempt count: skip every redelivery", "ex04-content-publishing", {
    "publishing_service": PUBLISHING.format(body='''        if ctx.attempt > 1:
            return []  # "a redelivery is a repeat"
        live = ctx.state["live"].get(event.content_id)
        if live is not None and live["version"] > event.version:
            return []'''),
    "upload_service": UPLOAD.format(body='''        if ctx.attempt > 1:
            return []  # "a redelivery is a repeat"
        ctx.state["stored"].pop(f"{content_id}@v{version}", None)
''' + TELL)},
    {"publishes a version once when its message comes twice": "not by ctx.attempt",
     "tells the creator once when the rejection comes twice": "not by ctx.attempt",
     "cleans up an unplayable file and a rejected edit of the same item": "not by ctx.attempt",
     CHAOS: "published once, never older", MORE_CHAOS: "rejected files are deleted"})

#: handles the repeat and the late message by refusing any item that is live already, so an edit
#: uploaded after version 1 went live is never published.
ONCE_PER_ITEM = Variant("never replaces a live item, so a later edit is never published",
                        "ex04-content-publishing", {
    "publishing_service": PUBLISHING.format(
        body='''        if event.content_id in ctx.state["live"]:
            return []  # live already: a repeat''')},
    {"keeps the newer version live when the older one's message arrives late":
     "replaces the live one",
     "keeps the newest of three versions under reorders and repeats": "compare versions",
     CHAOS: "newest version is live", MORE_CHAOS: "newest version is live"})

#: updates the version of a live entry but keeps the rendition it was created with: viewers
#: keep seeing version 1's video under version 2's number.
KEEPS_THE_OLD_RENDITION = Variant("moves the live version on but keeps the old rendition",
                                  "ex04-content-publishing", {
    "publishing_service": '''
def make_publishing_service():
    publishing = Service("publishing", {"live": {}, "published": []})

    @publishing.handles(TranscodingComplete, publishes=(ContentPublished,))
    def publish_content(event, ctx):
        live = ctx.state["live"].get(event.content_id)
        if live is not None and live["version"] >= event.version:
            return []
        if live is None:
            ctx.state["live"][event.content_id] = {"version": event.version,
                                                   "rendition": event.rendition}
        else:
            live["version"] = event.version
        ctx.state["published"].append({"content_id": event.content_id, "version": event.version})
        return [ContentPublished(content_id=event.content_id, version=event.version)]

    return publishing
'''},
    {"keeps the newer version live when the older one's message arrives late": "its own rendition"})

#: recognises a repeated rejection by the version number alone: the first item's version 1 makes
#: every other item's version 1 look handled already.
REPEAT_BY_VERSION_ONLY = Variant("recognises a repeated rejection by its version alone",
                                 "ex04-content-publishing", {
    "upload_service": UPLOAD.format(
        body='''        if any(e["version"] == version for e in ctx.state["told"]):
            return []
        ctx.state["stored"].pop(f"{content_id}@v{version}", None)
''' + TELL)},
    {"deletes a rejected upload's file and tells the creator, and keeps the others":
     "content_id and version together",
     MORE_CHAOS: "rejected files are deleted"})

GUARD = '''        if any(e["content_id"] == content_id and e["version"] == version
               for e in ctx.state["told"]):
            return []
        ctx.state["stored"].pop(f"{content_id}@v{version}", None)
'''
#: deletes the right file once, but tells every creator the same made-up reason instead of the
#: one moderation (or transcoding) gave.
MADE_UP_REASON = Variant("tells the creator a made-up reason", "ex04-content-publishing", {
    "upload_service": UPLOAD.format(
        body=GUARD + '''        ctx.state["told"].append({"content_id": content_id, "version": version,
                                  "reason": "rejected"})
        return [UploadDeleted(content_id=content_id, version=version, reason="rejected")]''')},
    {"deletes a rejected upload's file and tells the creator, and keeps the others":
     "pass on the reason the event carries"})

#: answers a late or repeated message with the live version's ContentPublished again, as if a
#: repeat needed the same reply: the state is right, but every repeat is announced.
ANNOUNCES_AGAIN = Variant("announces ContentPublished again on a late or repeated message",
                          "ex04-content-publishing", {
    "publishing_service": PUBLISHING.format(
        body='''        live = ctx.state["live"].get(event.content_id)
        if live is not None and live["version"] >= event.version:
            return [ContentPublished(content_id=event.content_id, version=live["version"])]''')},
    {"publishes a version once when its message comes twice": "not even the same ContentPublished",
     "keeps the newest of three versions under reorders and repeats":
     "not even the same ContentPublished"})

#: compares versions as text, the way they appear in the file keys ("v-1@v10"): right up to
#: version 9, and then "10" sorts before "9".
COMPARES_AS_TEXT = Variant("compares versions as text", "ex04-content-publishing", {
    "publishing_service": PUBLISHING.format(
        body='''        live = ctx.state["live"].get(event.content_id)
        if live is not None and str(live["version"]) >= str(event.version):
            return []''')},
    {"keeps the newest of three versions under reorders and repeats": "as numbers"})

#: correct, with state of its own: publishing keeps a list of the versions it handled (and more in
#: the live entry than asked), upload a list of (item, version) pairs; both return single events
#: or tuples. The new checks of renditions, reasons and announcements must not trip on these.
OWN_BOOKKEEPING = Variant("a correct publisher and clean-up keeping their own records",
                          "ex04-content-publishing", {
    "publishing_service": '''
def make_publishing_service():
    publishing = Service("publishing", {"live": {}, "published": [], "seen": []})

    @publishing.handles(TranscodingComplete, publishes=(ContentPublished,))
    def publish_content(event, ctx):
        key = f"{event.content_id}@v{event.version}"
        if key in ctx.state["seen"]:
            return ()
        ctx.state["seen"].append(key)
        if event.version < ctx.state["live"].get(event.content_id, {}).get("version", 0):
            return ()
        ctx.state["live"][event.content_id] = dict(version=event.version,
                                                   rendition=event.rendition, source=key)
        ctx.state["published"].append(dict(content_id=event.content_id, version=event.version))
        return (ContentPublished(content_id=event.content_id, version=event.version),)

    return publishing
''',
    "upload_service": UPLOAD.replace('{{"stored": {{}}, "told": []}}',
                                     '{{"stored": {{}}, "told": [], "done": []}}').format(body='''
        if [content_id, version] in ctx.state["done"]:
            return None
        ctx.state["done"].append([content_id, version])
        ctx.state["stored"].pop(f"{content_id}@v{version}", None)
        ctx.state["told"].append(dict(content_id=content_id, version=version, reason=reason))
        return UploadDeleted(content_id=content_id, version=version, reason=reason)''')})

WRONG_EX04 = (LAST_WRITER_WINS, STRICTLY_NEWER, NO_CLEAN_UP, TELLS_AGAIN, DELETES_EVERY_VERSION,
              TRUSTS_THE_ATTEMPT_COUNT, ONCE_PER_ITEM,
              KEEPS_THE_OLD_RENDITION, REPEAT_BY_VERSION_ONLY, MADE_UP_REASON,
              ANNOUNCES_AGAIN, COMPARES_AS_TEXT)
CORRECT_EX04 = (WRITTEN_DIFFERENTLY, OWN_BOOKKEEPING)
