"""Vectors in segment files that generations share: a build writes the rows it adds, not every row again.

Each kind of vectors (chunk vectors, sentence vectors) lives in ``index/stores/``, in segment files (``.npy``)
that are never changed once written. A generation lists its segments, one after the other, in ``stores.json``,
and keeps in ``<name>.rows.npy`` the row of each of its entries among them. A build that changes one file adds
one small segment with that file's new vectors; the rows of the other chunks are the current generation's.

Rows that no entry reads any more (the vectors of chunks that went) stay in their segment until it is rewritten:
a build that would make more than MAX_SEGMENTS writes the rows read of all but the largest, with its new ones,
into one; when the rows read are fewer than half the rows stored, every segment is written again as one. Segments
no kept generation lists are deleted with it.

>>> fresh = np.eye(3, dtype=np.float32)
>>> staged = Rows.staged(None, np.array([-1, -1, -1]), fresh)
>>> staged[np.array([2, 0])].tolist()
[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

STORES = "stores"
MAX_SEGMENTS = 8
SLICE = 65_536  # vectors read, copied or written at a time: temporary copies stay small, mapped files are read in order


def slices(count: int) -> Iterator[slice]:
    """Rows 0 to ``count``, SLICE rows at a time."""
    return (slice(begin, min(count, begin + SLICE)) for begin in range(0, count, SLICE))


class Rows:
    """The vectors of a generation's entries, row ``rows[i]`` of its segments read one after the other.

    While a build stages a generation, a negative row ``-j - 1`` is row ``j`` of ``fresh``, not written yet.
    Indexing returns the vectors as an array; ``np.asarray(rows)`` gathers them all.
    """

    def __init__(self, segments: list, files: list[str], rows: np.ndarray, fresh: np.ndarray | None, dimension, dtype):
        self.segments, self.files, self.rows, self.fresh = segments, files, rows, fresh
        self.offsets = np.cumsum([0] + [len(segment) for segment in segments])
        self.dtype = np.dtype(dtype)
        self.shape = (len(rows), int(dimension))
        self.ndim = 2

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key):
        if isinstance(key, int | np.integer):
            return self._gather(self.rows[[key]])[0]
        return self._gather(self.rows[key])

    def __array__(self, dtype=None, copy=None):
        out = np.empty(self.shape, self.dtype)
        for part in slices(len(self)):
            out[part] = self._gather(self.rows[part])
        return out if dtype is None else out.astype(dtype, copy=False)

    def _gather(self, picked: np.ndarray) -> np.ndarray:
        out = np.empty((len(picked), self.shape[1]), self.dtype)
        new = picked < 0
        if new.any():
            out[new] = self.fresh[-picked[new] - 1]
        stored = np.flatnonzero(~new)
        segment = np.searchsorted(self.offsets, picked[stored], side="right") - 1
        for number in np.unique(segment):
            chosen = stored[segment == number]
            local = picked[chosen] - self.offsets[number]
            if len(local) > 1 and np.all(np.diff(local) == 1):  # a run of rows: read as a slice
                out[chosen] = self.segments[number][local[0] : local[-1] + 1]
            else:
                out[chosen] = self.segments[number][local]
        return out

    @classmethod
    def staged(cls, previous: Rows | None, origin: np.ndarray, fresh: np.ndarray) -> Rows:
        """A new generation's rows: entry i is entry ``origin[i]`` of ``previous`` where >= 0, else the next row
        of ``fresh`` (in order)."""
        rows = np.empty(len(origin), np.int64)
        kept = origin >= 0
        if previous is not None:
            rows[kept] = previous.rows[origin[kept]]
        rows[~kept] = -np.arange(1, int((~kept).sum()) + 1)
        segments, files = (previous.segments, previous.files) if previous is not None else ([], [])
        return cls(segments, files, rows, fresh, fresh.shape[1], fresh.dtype)

    @classmethod
    def read(cls, index_dir: Path, files: list[str], rows: np.ndarray, dimension: int, dtype) -> Rows:
        """Rows of these segment files, mapped, checked (ValueError when they do not hold together)."""
        segments = [np.load(index_dir / file, mmap_mode="r", allow_pickle=False) for file in files]
        for file, segment in zip(files, segments):
            if segment.dtype != dtype or segment.ndim != 2 or segment.shape[1] != dimension:
                found = f"{segment.dtype} {segment.shape}"
                raise ValueError(f"{file}: {found}, expected {np.dtype(dtype)} rows of {dimension}")
        stored = sum(len(segment) for segment in segments)
        if rows.dtype != np.int64 or rows.ndim != 1 or (len(rows) and not 0 <= rows.min() <= rows.max() < stored):
            raise ValueError(f"entries point past the {stored} rows stored")
        return cls(segments, files, rows, None, dimension, dtype)

    @classmethod
    def load(cls, index_dir: Path, folder: Path, name: str, count: int, dimension: int, dtype) -> Rows:
        """A generation's rows of ``name`` (ValueError when they do not hold together)."""
        files = json.loads((folder / "stores.json").read_text(encoding="utf-8"))[name]
        rows = np.load(folder / f"{name}.rows.npy", allow_pickle=False)
        if rows.shape != (count,):
            raise ValueError(f"{name}.rows.npy: {rows.shape}, expected {(count,)}")
        rows.flags.writeable = False
        return cls.read(index_dir, files, rows, dimension, dtype)


def save(rows: Rows, index_dir: Path, staging: Path, name: str, generation: str) -> tuple[list[str], list[Path]]:
    """Write the rows not written yet as a new segment (or rewrite segments, see the module's docstring), and the
    entries' rows into ``staging``. Returns the generation's segment files and the files written."""
    (index_dir / STORES).mkdir(exist_ok=True)
    files, entries = list(rows.files), rows.rows.copy()
    written: list[Path] = []

    def write(kind: str, entries_written: np.ndarray) -> str:
        """A new segment holding the vectors of these entries, in this order."""
        file = f"{STORES}/{name}-{generation}-{kind}.npy"
        written.append(index_dir / file)  # removed if the build fails, even half written
        out = np.lib.format.open_memmap(index_dir / file, "w+", rows.dtype, (len(entries_written), rows.shape[1]))
        for part in slices(len(entries_written)):
            out[part] = rows[entries_written[part]]
        out.flush()
        del out
        return file

    new = np.flatnonzero(entries < 0)
    stored = int(rows.offsets[-1])
    if not len(entries):
        files = []
    elif stored + len(new) > 2 * len(entries):  # mostly rows no entry reads: one segment, in the entries' order
        files = [write("all", np.arange(len(entries)))]
        entries = np.arange(len(entries), dtype=np.int64)
    elif len(new) and len(files) >= MAX_SEGMENTS:  # the largest segment stays; the rest, new rows too, become one
        largest = int(np.argmax(np.diff(rows.offsets)))
        begin, end = rows.offsets[largest], rows.offsets[largest + 1]
        inside = (entries >= begin) & (entries < end)  # new rows (negative) are never inside
        others = np.flatnonzero(~inside)
        files = [files[largest], write("merged", others)]
        entries[inside] -= begin
        entries[others] = (end - begin) + np.arange(len(others))
    elif len(new):
        files.append(write("added", new))
        entries[new] = stored + np.arange(len(new))
    np.save(staging / f"{name}.rows.npy", entries, allow_pickle=False)
    return files, written


def referenced(index_dir: Path, generations: set[str]) -> set[str]:
    """The segment files these generations list."""
    files: set[str] = set()
    for generation in filter(None, generations):
        try:
            listed = json.loads((index_dir / generation / "stores.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        files.update(file for names in listed.values() for file in names)
    return files


def remove_unreferenced(index_dir: Path, keep: set[str]) -> None:
    """Delete the segment files no kept generation lists (only ever called under the build lock)."""
    folder = index_dir / STORES
    if not folder.is_dir():
        return
    listed = referenced(index_dir, keep)
    for item in folder.iterdir():
        if f"{STORES}/{item.name}" not in listed:
            item.unlink(missing_ok=True)


def fsync_files(paths: list[Path]) -> None:
    for path in paths:
        with open(path, "rb+") as handle:
            os.fsync(handle.fileno())
