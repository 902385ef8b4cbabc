"""`choreo-lab run content`: the publishing pipeline in the terminal."""

from __future__ import annotations

from choreo_lab.cli import main


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(["run", "content", *args])
    return code, capsys.readouterr().out


def test_run_content_shows_every_item_and_the_consistency_report(capsys):
    code, out = run(capsys, "--count", "4", "--seed", "3")
    assert code == 0
    assert all(f"v-{n}" in out for n in range(1, 5))
    assert "converged - all 4 workflows finished and consistent" in out


def test_following_an_edited_item_draws_both_versions(capsys):
    code, out = run(capsys, "--count", "3", "--seed", "0", "--follow", "v-1")
    assert code == 0
    assert out.count("transcoding->>publishing: TranscodingComplete") == 2


def test_a_killed_transcoder_delays_publishing_but_nothing_is_lost(capsys):
    code, out = run(capsys, "--count", "2", "--kill", "transcoding@0", "--restart",
                    "transcoding@10s")
    assert code == 0
    assert "converged - all 2 workflows finished and consistent" in out
