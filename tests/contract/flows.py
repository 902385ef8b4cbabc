"""Small services the contract suite runs on every backend. Public API only.

Each factory is `@rebuildable`: a backend that runs services as processes of their own (NATS)
builds them again there from this module. Outcomes are read from what the services record
in their own state, the one thing every backend shows the same way.
"""

from __future__ import annotations

from choreo_lab import Context, Event, Service
from choreo_lab.nats import rebuildable


class UserRegistered(Event):
    user_id: str


class ContentUploaded(Event):
    content_id: str


class ContentTranscoded(Event):
    content_id: str


class ChapterWritten(Event):
    book: str
    chapter: int


class PaymentRequested(Event):
    order_id: str
    amount: int


class PaymentTaken(Event):
    order_id: str
    amount: int


class BankReopened(Event):
    """The cashier's bank works again (sent by the test once the cause is fixed)."""


@rebuildable
def registrations_listener(name: str) -> Service:
    """A notifications consumer that notes every user it hears about."""
    service = Service(name, {"users": []})

    @service.handles(UserRegistered)
    def note_user(event: UserRegistered, ctx: Context) -> None:
        ctx.state["users"].append(event.user_id)

    return service


@rebuildable
def transcoder(instances: int, processing_time: int = 10) -> Service:
    """A slow service: each upload takes `processing_time` ms to transcode."""
    service = Service("transcoding", {"done": []}, instances=instances,
                      processing_time=processing_time)

    @service.handles(ContentUploaded, publishes=(ContentTranscoded,))
    def transcode(event: ContentUploaded, ctx: Context) -> ContentTranscoded:
        ctx.state["done"].append(event.content_id)
        return ContentTranscoded(content_id=event.content_id)

    return service


@rebuildable
def archive(name: str = "archive", *, fail_on_first_attempt: tuple[int, ...] = (),
            instances: int = 1, processing_time: int = 0) -> Service:
    """Files chapters per book, in the order it handles them; some chapters fail once."""
    service = Service(name, {"books": {}}, instances=instances, processing_time=processing_time)

    @service.handles(ChapterWritten)
    def file_chapter(event: ChapterWritten, ctx: Context) -> None:
        if event.chapter in fail_on_first_attempt and ctx.attempt == 1:
            raise RuntimeError(f"archive busy, chapter {event.chapter} of {event.book}")
        ctx.state["books"].setdefault(event.book, []).append(event.chapter)

    return service


@rebuildable
def cashier(*, idempotent: bool) -> Service:
    """Takes payments: adds to a till and publishes PaymentTaken. Non-idempotent on request."""
    service = Service("cashier", {"till": 0, "taken": []})

    @service.handles(PaymentRequested, publishes=(PaymentTaken,))
    def take_payment(event: PaymentRequested, ctx: Context) -> PaymentTaken | None:
        if idempotent and event.order_id in ctx.state["taken"]:
            return None
        ctx.state["till"] += event.amount
        ctx.state["taken"].append(event.order_id)
        return PaymentTaken(order_id=event.order_id, amount=event.amount)

    return service


@rebuildable
def receipts() -> Service:
    """Downstream of the cashier: one receipt per PaymentTaken it hears about."""
    service = Service("receipts", {"printed": []})

    @service.handles(PaymentTaken)
    def print_receipt(event: PaymentTaken, ctx: Context) -> None:
        ctx.state["printed"].append(event.order_id)

    return service


@rebuildable
def picky_cashier(bad_order: str = "none", *, bank_open: bool = True) -> Service:
    """Refuses one order forever, and every order while its bank is closed."""
    service = Service("cashier", {"paid": [], "bank_open": bank_open})

    @service.handles(PaymentRequested)
    def take_payment(event: PaymentRequested, ctx: Context) -> None:
        if event.order_id == bad_order:
            raise ValueError(f"card expired for {event.order_id}")
        if not ctx.state["bank_open"]:
            raise ConnectionError("bank unavailable")
        ctx.state["paid"].append(event.order_id)

    @service.handles(BankReopened)
    def note_bank_open(event: BankReopened, ctx: Context) -> None:
        ctx.state["bank_open"] = True

    return service


@rebuildable
def attempt_recorder(name: str = "mailer", *, fail_until: int = 1,
                     processing_time: int = 0) -> Service:
    """Raises on attempts before `fail_until`; on success, keeps the attempt that succeeded
    and how long after publication it came (ms)."""
    service = Service(name, {"sent": [], "waited": []}, processing_time=processing_time)

    @service.handles(UserRegistered)
    def send_welcome(event: UserRegistered, ctx: Context) -> None:
        if ctx.attempt < fail_until:
            raise ConnectionError(f"mail server unreachable (attempt {ctx.attempt})")
        ctx.state["sent"].append((event.user_id, ctx.attempt))
        ctx.state["waited"].append(ctx.now - ctx.envelope.published_at)

    return service


def handled(sim, service: str) -> list[str]:
    """Message ids the service acked, in order (from the trace: only where `trace` is promised)."""
    return [r.message_id for r in sim.trace if r.kind == "ack" and r.service == service]
