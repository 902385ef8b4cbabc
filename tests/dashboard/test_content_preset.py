"""The pipeline's preset: upload normal, flagged and corrupt videos, edit one, scale
transcoding, deploy the fixed decoder and re-drive the poison message."""

from __future__ import annotations

import pytest

from choreo_lab.dashboard.board import workflow_statuses
from choreo_lab.dashboard.presets import content_dashboard
from choreo_lab.examples.content import TRANSCODE_TIME

from .helpers import card_text, click


def test_a_flagged_upload_is_cleaned_up_and_a_normal_one_published():
    dash = content_dashboard(seed=7)
    click(dash, "Upload a video")
    click(dash, "Upload a flagged video")
    dash.run_until_idle()
    assert dash.sim.state("publishing")["live"]["v-1"]["version"] == 1
    assert dash.sim.state("upload")["stored"] == {"v-1@v1": "clip-1.mp4"}
    assert dash.lamp_state == "green"


def test_scaling_transcoding_shortens_the_wait_of_a_burst():
    def oldest_after_burst(instances: int) -> int:
        dash = content_dashboard(seed=7)
        dash.scale("transcoding", instances)
        click(dash, "Upload a video", times=6)
        dash.run_for(TRANSCODE_TIME + 100)
        return dash.oldest_waiting("transcoding")
    assert oldest_after_burst(1) > TRANSCODE_TIME
    assert oldest_after_burst(3) == 0
    dash = content_dashboard(seed=7)
    dash.scale("transcoding", 3)
    assert "3" in card_text(dash, "transcoding")


def test_a_corrupt_video_is_dead_lettered_then_redriven_after_the_decoder_fix():
    dash = content_dashboard(seed=7)
    click(dash, "Upload a corrupt video")
    click(dash, "Upload a video")
    dash.run_until_idle()
    assert [letter.group for letter in dash.sim.dead_letters] == ["transcoding"]
    assert "v-2" in dash.sim.state("publishing")["live"]
    assert dash.lamp_state != "green"
    click(dash, "Deploy decoder 2")
    dash.run_until_idle()
    assert dash.redrive() == 1
    dash.run_until_idle()
    assert dash.sim.dead_letters == [] and dash.lamp_state == "green"


def test_editing_publishes_the_new_version_and_editing_nothing_is_explained():
    dash = content_dashboard(seed=7)
    click(dash, "Edit the latest video")
    assert "Upload a video first" in " ".join(dash.problems)
    assert dash.upload() == "v-1"
    dash.run_for(1000)
    assert dash.edit_latest() == "v-1"
    dash.run_until_idle()
    assert dash.sim.state("publishing")["live"]["v-1"]["version"] == 2
    with pytest.raises(ValueError, match="video, flagged or corrupt"):
        dash.upload("huge")


def test_only_transcoding_gets_instance_buttons_and_they_scale_it():
    dash = content_dashboard(seed=7)
    for _ in range(2):
        dash.button("+ transcoding instance").click()
    assert dash.sim.stats()["transcoding"]["instances"] == 3
    with pytest.raises(Exception, match="moderation instance"):
        dash.button("+ moderation instance")


def test_deploying_the_decoder_is_a_finished_workflow_not_a_stuck_one():
    dash = content_dashboard(seed=7)
    click(dash, "Deploy decoder 2")
    dash.run_until_idle()
    assert workflow_statuses(dash.sim) == {"operations": "completed"}


def test_the_content_dashboard_plays_in_minutes_since_a_transcode_takes_three():
    dash = content_dashboard(seed=7)
    assert dash.controls.speed.value == 60_000
    assert TRANSCODE_TIME in [ms for _, ms in dash.controls.speed.options]
    click(dash, "Upload a video")
    dash.play()
    for value in range(1, 5):          # four ticks: one real second, four virtual minutes
        dash.controls.clock.value = value
    assert dash.sim.state("publishing")["live"]["v-1"]["version"] == 1


def test_deploying_the_decoder_is_no_workflow_in_the_table():
    dash = content_dashboard(seed=7)
    click(dash, "Upload a video")
    dash.act("Deploy decoder 2")
    dash.run_until_idle()
    assert dict(dash.snapshot.workflows) == {"v-1": "completed"}
    assert "operations" not in dash.controls.sagas.value
