"""Build the course's static site: every notebook and exercise with its saved outputs, the
diagrams drawn by a mermaid build served from the site itself, so it works offline.

    python docs/site/build.py [--out build/site] [--mermaid PATH] [--jobs N]

Stages docs/site/ and the course files (`choreo_lab.course.COURSE_FILES`) into OUT/../site-src,
adds mermaid.min.js (from `make site`, which fetches it with npm once), and runs Sphinx
(myst-nb, no execution). Open OUT/index.html in a browser; nothing is loaded from the network.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from sphinx.cmd.build import build_main

from choreo_lab.course import course_files

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
#: Where `make site` (and `make test`) put mermaid's browser build: inside the venv.
DEFAULT_MERMAID = Path(sys.prefix) / "share" / "mermaid" / "mermaid.min.js"


def stage(source: Path, mermaid: Path) -> None:
    """Lay out the Sphinx source folder: configuration, index, course files, mermaid."""
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(HERE, source, ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.sh"))
    shutil.copy(HERE / "conf.py", source / "conf.py")
    shutil.copytree(HERE / "_ext", source / "_ext", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in course_files(REPO):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / name, source / name)
    shutil.copyfile(mermaid, source / "_static" / "mermaid.min.js")


def build(out: Path, mermaid: Path = DEFAULT_MERMAID, jobs: int = 1) -> int:
    """Build the site into `out`; returns Sphinx's exit status (warnings count as errors)."""
    if not mermaid.is_file():
        raise FileNotFoundError(f"no mermaid build at {mermaid}: run `make site` (it fetches "
                                "mermaid with npm once), or pass --mermaid PATH")
    source = out.parent / f"{out.name}-src"
    stage(source, mermaid)
    shutil.rmtree(out, ignore_errors=True)  # nothing left over from an earlier build
    return build_main(["-b", "html", "-q", "-W", "--keep-going", "-E", "-j", str(jobs),
                       str(source), str(out)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "site")
    parser.add_argument("--mermaid", type=Path, default=DEFAULT_MERMAID,
                        help="mermaid.min.js to serve (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=1, help="Sphinx's parallel jobs")
    args = parser.parse_args(argv)
    try:
        status = build(args.out, args.mermaid, args.jobs)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if status == 0:
        print(f"site built: open {args.out / 'index.html'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
