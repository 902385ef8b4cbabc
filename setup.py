"""Build hook: put the course (notebooks/, exercises/) into the wheel as choreo_lab/course/.

Everything else about the package is in pyproject.toml. The files come from the repository
(or the unpacked sdist) at build time, so the course lives in one place only; which files
make the course is `choreo_lab.course.COURSE_FILES`, read here without importing choreo_lab.
An editable install needs no copy: `choreo_lab.course` finds the checkout instead.
"""

import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithCourse(build_py):
    """build_py that also copies the course files into the built package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        course = runpy.run_path(str(HERE / "choreo_lab" / "course.py"))
        target = Path(self.build_lib) / "choreo_lab" / "course"
        for name in course["course_files"](HERE):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(HERE / name, target / name)
        if not (target / course["FIRST_NOTEBOOK"]).is_file():
            raise SystemExit(f"no course to package: {course['FIRST_NOTEBOOK']} is missing")


setup(cmdclass={"build_py": BuildPyWithCourse})
