"""Contract: inside a group, one key's messages are handled in publish order (unless reordered)."""

from __future__ import annotations

import pytest

from choreo_lab import Reorder

from .flows import ChapterWritten, archive

BOOKS = ("dune", "emma", "ulysses")
CHAPTERS = list(range(1, 9))


def publish_chapters(sim) -> None:
    for chapter in CHAPTERS:
        for book in BOOKS:
            sim.publish(ChapterWritten(book=book, chapter=chapter), key=book)


@pytest.mark.feature("per_key_order", "trace")
@pytest.mark.parametrize("instances, processing_time", [(1, 0), (3, 4)])
def test_one_keys_messages_are_handled_in_publish_order_despite_jitter_and_retries(
        backend, instances, processing_time):
    service = archive(fail_on_first_attempt=(2, 5), instances=instances,
                      processing_time=processing_time)
    sim = backend.make([service], seed=11, jitter=25)
    publish_chapters(sim)
    sim.run_until_idle()
    assert sim.state("archive")["books"] == {book: CHAPTERS for book in BOOKS}
    assert len(sim.trace.where(kind="nack")) == 2 * len(BOOKS)  # the retries did happen


@pytest.mark.feature("per_key_order", "injected_faults")
def test_a_reorder_fault_lets_later_messages_of_a_key_overtake(backend):
    sim = backend.make([archive()], seed=11,
                       faults=[Reorder(service="archive", times=1, by=50)])
    for chapter in CHAPTERS:
        sim.publish(ChapterWritten(book="dune", chapter=chapter), key="dune")
    sim.run_until_idle()
    filed = sim.state("archive")["books"]["dune"]
    assert sorted(filed) == CHAPTERS
    assert filed != CHAPTERS
    assert filed[-1] == 1  # the reordered first chapter came last
