"""The package as installed without the source tree beside it: a wheel holds every module and data file."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_every_module_and_data_file(tmp_path):
    source = tmp_path / "source"  # a clean copy: a build folder left by an earlier build would hide a missing package
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "assistant", source / "assistant", ignore=shutil.ignore_patterns("__pycache__"))
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    built = subprocess.run(
        [*command, "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("assistant-*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    shipped = {".py", ".toml", ".json", ".npz"}
    sources = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "assistant").rglob("*")
        if path.is_file() and path.suffix in shipped and "__pycache__" not in path.parts
    }
    assert sources, "no source found"
    assert sorted(sources - packed) == []
