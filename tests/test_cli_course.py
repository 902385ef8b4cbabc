"""`choreo-lab course` and `choreo-lab lab`: the course copied into a folder of the student's
own, and JupyterLab opened there (on loopback, at notebook 00, with the course's save hook)."""

from __future__ import annotations

import os
from pathlib import Path

from choreo_lab.cli import main
from choreo_lab.course import FIRST_NOTEBOOK, course_files, course_source
from choreo_lab.lab import CONFIG_DIR, lab_command, lab_environment


def test_the_course_is_copied_and_a_second_copy_keeps_the_students_work(tmp_path, capsys):
    assert main(["course", str(tmp_path)]) == 0
    assert course_files(tmp_path) == course_files(course_source())
    mine = tmp_path / FIRST_NOTEBOOK
    mine.write_text("my own notes", encoding="utf-8")
    assert main(["course", str(tmp_path)]) == 0
    assert mine.read_text(encoding="utf-8") == "my own notes"
    assert f"kept {len(course_files(tmp_path))} already there" in capsys.readouterr().out


def test_copying_the_course_onto_a_file_is_refused_with_a_message(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    assert main(["course", str(tmp_path / "notes.txt")]) == 2
    assert "is a file: give a folder" in capsys.readouterr().err


def test_jupyterlab_serves_the_course_folder_on_loopback_and_opens_notebook_00(tmp_path):
    command = lab_command(tmp_path, open_browser=False, port=8899)
    assert "--ServerApp.ip=127.0.0.1" in command
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in command  # so exercises/ is reachable
    assert f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}" in command
    assert "--no-browser" in command and "--ServerApp.port=8899" in command


def test_the_course_configuration_comes_first_and_the_users_own_still_loads():
    env = lab_environment({"JUPYTER_CONFIG_PATH": "/home/ada/jupyter", "HOME": "/home/ada"})
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(CONFIG_DIR), "/home/ada/jupyter"]
    assert env["HOME"] == "/home/ada"
    assert (Path(env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0])
            / "jupyter_server_config.json").is_file()
