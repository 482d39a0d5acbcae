"""The repository stands on its own: no tracked file names a path of some machine or a path outside it.

A fresh clone with nothing beside it must build, test and run; a file that names a developer's
working folder or a sibling folder of the checkout works on one machine only.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Absolute paths of a person's or an agent's machine (home and scratch folders), POSIX or Windows.
#: Operating-system locations (/usr/bin, /etc, /var/lib inside a container) are conventions, not a
#: machine's: they are not looked for.
MACHINE_PATH = re.compile(
    r"(?<![\w.}$-])/(?:work|root|home|Users|mnt|tmp)/[\w.-]" r"|\b[A-Za-z]:\\(?:Users|work)\\",
)
#: A relative path that climbs: ``../`` repeated, then a name.
CLIMBING_PATH = re.compile(r"(?<![\w.])((?:\.\./)+)(?=[\w.-])")


def tracked_text_files() -> list[tuple[str, str]]:
    """``(path, text)`` of every file git tracks, binary files left out."""
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode("utf-8")
    files = []
    for name in filter(None, listing.split("\0")):
        try:
            raw = (ROOT / name).read_bytes()
        except FileNotFoundError:  # deleted in the working tree, not yet committed
            continue
        if b"\0" in raw:
            continue
        try:
            files.append((name, raw.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return files


def outside_paths(name: str, text: str) -> list[str]:
    """Each place in ``text`` (the file ``name``) that names a machine path or climbs out of the repository."""
    found = []
    depth = len(PurePosixPath(name).parent.parts)
    for number, line in enumerate(text.splitlines(), start=1):
        for match in MACHINE_PATH.finditer(line):
            found.append(f"{name}:{number}: machine path {line[match.start() : match.start() + 40]!r}")
        for match in CLIMBING_PATH.finditer(line):
            if match.group(1).count("../") > depth:
                found.append(f"{name}:{number}: path outside the repository {line[match.start() :][:40]!r}")
    return found


def test_no_tracked_file_names_a_machine_path_or_a_path_outside_the_repository() -> None:
    files = tracked_text_files()
    assert any(name == "pyproject.toml" for name, _ in files), "git ls-files listed no project file"
    problems = [problem for name, text in files for problem in outside_paths(name, text)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("tests/accounting/conftest.py", 'EXAMPLES = Path("/' + 'work/main/fixtures/examples")'),
        ("README.md", "see /" + "root/notes.md"),
        ("README.md", "copy from /" + "home/alice/data.csv"),
        ("README.md", "copy from /" + "tmp/fresh/var"),
        ("docs/x.md", "C:" + "\\Users\\bob\\mrv"),
        ("tests/accounting/conftest.py", 'DIR = ROOT / "' + "../" * 3 + 'shared/domain/examples"'),
        ("README.md", "the figures of " + "../" + "shared/domain/examples"),
    ],
)
def test_the_check_finds_machine_paths_and_climbing_paths(name: str, text: str) -> None:
    assert outside_paths(name, text)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Makefile", ">var/worker.log 2>&1"),
        ("bench/verification.py", 'f"--logfile={folder}/worker-{n}.log"'),
        ("mrv/tasks.py", "POST .../lines/import/?background=true"),
        ("docs/api/x.md", "see " + "../" + "README.md"),
        ("README.md", "https://example.org/home/page"),
        ("Dockerfile", "MRV_VAR_DIR=/var/lib/mrv"),
    ],
)
def test_the_check_lets_paths_inside_the_repository_and_system_locations_pass(name: str, text: str) -> None:
    assert not outside_paths(name, text)
