"""Vectors in segment files that generations share: a build writes the rows it adds, not every row again.

Each kind of vectors (chunk vectors, sentence vectors) lives in ``index/stores/``, in segment files (``.npy``)
that are never changed once written. A generation lists its segments, one after the other, in ``stores.json``,
and keeps in ``<name>.rows.npy`` the row of each of its entries among them. A build that changes one file adds
one small segment with that file's new vectors; the rows of the other chunks are the current generation's.

Rows that no entry reads any more (the vectors of chunks that went) stay in their segment until it is rewritten:
a build that would make more than MAX_SEGMENTS writes the rows read of all but the largest, with its new ones,
into one; when the rows read are fewer than half the rows stored, every segment is written again as one. Segments
no kept generation lists are deleted with it. The chunks' text (assistant/chunktable.py) and counted terms
(assistant/postings.py) are kept in segments by the same rules (``compacted``).

>>> fresh = np.eye(3, dtype=np.float32)
>>> staged = Rows.staged(None, np.array([-1, -1, -1]), fresh)
>>> staged[np.array([2, 0])].tolist()
[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import numpy as np

STORES = "stores"
MAX_SEGMENTS = 8
SLICE = 65_536  # vectors read, copied or written at a time: temporary copies stay small, mapped files are read in order
WRITE_ROWS = 8_192  # rows written into a scratch file before their pages are handed back


def release_pages(array: np.ndarray) -> None:
    """Hand back the pages of a mapped file that was read through once (its vectors filed, its checksum taken):
    they stay in the file and come back when read again, and the process's resident memory holds what it uses."""
    mapping = getattr(array, "_mmap", None)
    if mapping is not None:
        with contextlib.suppress(OSError, ValueError):
            mapping.madvise(mmap.MADV_DONTNEED)


def slices(count: int) -> Iterator[slice]:
    """Rows 0 to ``count``, SLICE rows at a time."""
    return (slice(begin, min(count, begin + SLICE)) for begin in range(0, count, SLICE))


def _write_header(handle, dtype, shape) -> None:
    """The ``.npy`` header of an array of ``shape`` and ``dtype``, whose rows are written after it."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(handle, header)


class Scratch:
    """Vectors a build makes, kept in a file of the index's stores rather than in memory: a ``.npy`` file, mapped,
    whose written pages are handed back to the system (``release``: they stay in the file), so that a first build
    of a million chunks does not hold five million sentence vectors. When the generation adds its new rows in order
    (the usual case), the file becomes its new segment as it is (``save``)."""

    def __init__(self, index_dir: Path, name: str, shape: tuple[int, int], dtype) -> None:
        folder = Path(index_dir) / STORES
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f".scratch-{name}-{secrets.token_hex(4)}.npy"
        dtype = np.dtype(dtype)
        self._file = open(self.path, "w+b")  # noqa: SIM115 - closed by close()
        _write_header(self._file, dtype, shape)
        offset = self._file.tell()
        self._file.truncate(offset + int(np.prod(shape)) * dtype.itemsize)  # zeros, not written yet
        self._map = mmap.mmap(self._file.fileno(), 0)
        self.array = np.ndarray(shape, dtype, buffer=self._map, offset=offset)
        self._offset, self._row_bytes = offset, dtype.itemsize * int(shape[1]) if len(shape) > 1 else dtype.itemsize

    def write(self, rows: np.ndarray, values: np.ndarray) -> None:
        """``array[rows] = values``, a few thousand rows at a time, each run's pages handed back once written."""
        for begin in range(0, len(rows), WRITE_ROWS):
            part = rows[begin : begin + WRITE_ROWS]
            self.array[part] = values[begin : begin + WRITE_ROWS]
            if len(part):
                self.release(int(part.min()), int(part.max()) + 1)

    def read(self, rows: np.ndarray) -> np.ndarray:
        """``array[rows]``, read from the file rather than through the mapping: rows far apart would map the pages
        around each of them too."""
        out = np.empty((len(rows), *self.array.shape[1:]), self.array.dtype)
        fileno = self._file.fileno()
        for position, row in enumerate(rows.tolist()):
            data = os.pread(fileno, self._row_bytes, self._offset + row * self._row_bytes)
            out[position] = np.frombuffer(data, self.array.dtype).reshape(self.array.shape[1:])
        return out

    def release(self, first: int = 0, end: int | None = None) -> None:
        """Hand the pages of rows ``first`` to ``end`` (all, by default) back to the system: they are in the file."""
        start = (self._offset + first * self._row_bytes) // mmap.PAGESIZE * mmap.PAGESIZE
        stop = len(self._map) if end is None else min(len(self._map), self._offset + end * self._row_bytes)
        if stop > start:
            self._map.flush(start, stop - start)
            self._map.madvise(mmap.MADV_DONTNEED, start, stop - start)

    def close(self) -> None:
        """Unmap the file and remove it (unless it became a segment)."""
        self.array = None
        try:
            self._map.close()
        except BufferError:  # a view of it is still alive somewhere: the system unmaps it with the process
            pass
        self._file.close()
        self.path.unlink(missing_ok=True)


class Rows:
    """The vectors of a generation's entries, row ``rows[i]`` of its segments read one after the other.

    While a build stages a generation, a negative row ``-j - 1`` is row ``j`` of ``fresh``, not written yet.
    Without ``fresh``, a negative row is an entry with no vector yet (``missing``; read as zeros): a generation
    published before its sentence vectors are made. Indexing returns the vectors as an array; ``np.asarray(rows)``
    gathers them all.
    """

    def __init__(self, segments: list, files: list[str], rows: np.ndarray, fresh: np.ndarray | None, dimension, dtype):
        self.segments, self.files, self.rows, self.fresh = segments, files, rows, fresh
        self.scratch: Scratch | None = None  # the file ``fresh`` lives in, when a build kept it there
        self.offsets = np.cumsum([0] + [len(segment) for segment in segments])
        self.dtype = np.dtype(dtype)
        self.shape = (len(rows), int(dimension))
        self.ndim = 2

    def __len__(self) -> int:
        return len(self.rows)

    def release(self) -> None:
        """Hand back the pages of the segments read so far (see ``release_pages``)."""
        for segment in self.segments:
            release_pages(segment)

    @property
    def missing(self) -> np.ndarray:
        """For each entry, whether it has no vector yet (only ever true without ``fresh``)."""
        return self.rows < 0 if self.fresh is None else np.zeros(len(self.rows), dtype=bool)

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
            out[new] = self.fresh[-picked[new] - 1] if self.fresh is not None else 0
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
    def staged(cls, previous: Rows | None, origin: np.ndarray, fresh: np.ndarray | Scratch) -> Rows:
        """A new generation's rows: entry i is entry ``origin[i]`` of ``previous`` where >= 0, else the next row
        of ``fresh`` (in order; an array, or a Scratch file)."""
        if isinstance(fresh, Scratch):
            staged = cls.staged(previous, origin, fresh.array)
            staged.scratch = fresh
            return staged
        rows = staged_rows(previous.rows if previous is not None else None, origin)
        segments, files = (previous.segments, previous.files) if previous is not None else ([], [])
        return cls(segments, files, rows, fresh, fresh.shape[1], fresh.dtype)

    @classmethod
    def pending(cls, previous: Rows | None, origin: np.ndarray, dimension: int, dtype) -> Rows:
        """A generation's rows before its new vectors are made: entry i is entry ``origin[i]`` of ``previous``
        where >= 0, and has no vector yet elsewhere."""
        rows = np.full(len(origin), -1, np.int64)
        kept = origin >= 0
        if previous is not None:
            rows[kept] = previous.rows[origin[kept]]
        segments, files = (previous.segments, previous.files) if previous is not None else ([], [])
        return cls(segments, files, rows, None, dimension, dtype)

    @classmethod
    def read(
        cls, index_dir: Path, files: list[str], rows: np.ndarray, dimension: int, dtype, missing: bool = False
    ) -> Rows:
        """Rows of these segment files, mapped, checked (ValueError when they do not hold together). With
        ``missing``, entries may have no vector yet (row -1)."""
        segments = [np.load(index_dir / file, mmap_mode="r", allow_pickle=False) for file in files]
        for file, segment in zip(files, segments):
            if segment.dtype != dtype or segment.ndim != 2 or segment.shape[1] != dimension:
                found = f"{segment.dtype} {segment.shape}"
                raise ValueError(f"{file}: {found}, expected {np.dtype(dtype)} rows of {dimension}")
        stored = sum(len(segment) for segment in segments)
        lowest = -1 if missing else 0
        if rows.dtype != np.int64 or rows.ndim != 1 or (len(rows) and not lowest <= rows.min() <= rows.max() < stored):
            raise ValueError(f"entries point past the {stored} rows stored")
        return cls(segments, files, rows, None, dimension, dtype)

    @classmethod
    def load(
        cls, index_dir: Path, folder: Path, name: str, count: int, dimension: int, dtype, missing: bool = False
    ) -> Rows:
        """A generation's rows of ``name`` (ValueError when they do not hold together; see ``read``)."""
        files = json.loads((folder / "stores.json").read_text(encoding="utf-8"))[name]
        rows = np.load(folder / f"{name}.rows.npy", allow_pickle=False)
        if rows.shape != (count,):
            raise ValueError(f"{name}.rows.npy: {rows.shape}, expected {(count,)}")
        rows.flags.writeable = False
        return cls.read(index_dir, files, rows, dimension, dtype, missing)


def staged_rows(previous: np.ndarray | None, origin: np.ndarray) -> np.ndarray:
    """A new generation's rows among the segments: entry i's is ``previous[origin[i]]`` where ``origin[i]`` >= 0;
    elsewhere ``-j - 1``, for the j-th entry made by the build (written when the generation is)."""
    rows = np.empty(len(origin), np.int64)
    kept = origin >= 0
    if previous is not None:
        rows[kept] = previous[origin[kept]]
    rows[~kept] = -np.arange(1, int((~kept).sum()) + 1)
    return rows


def save(rows: Rows, index_dir: Path, staging: Path, name: str, generation: str) -> tuple[list[str], list[Path]]:
    """Write the rows not written yet as a new segment (or rewrite segments, see the module's docstring), and the
    entries' rows into ``staging``. Returns the generation's segment files and the files written."""
    (index_dir / STORES).mkdir(exist_ok=True)
    written: list[Path] = []

    def write(kind: str, picked: np.ndarray) -> str:
        """A new segment holding the vectors of these entries, in this order."""
        file = f"{STORES}/{name}-{generation}-{kind}.npy"
        written.append(index_dir / file)  # removed if the build fails, even half written
        scratch = rows.scratch
        if kind == "added" and scratch is not None and len(picked) == len(rows.fresh):  # the scratch file as it is
            scratch.release()
            os.replace(scratch.path, index_dir / file)
            return file
        with open(index_dir / file, "wb") as handle:  # written, not mapped: the process holds one slice at a time
            _write_header(handle, rows.dtype, (len(picked), rows.shape[1]))
            for part in slices(len(picked)):
                handle.write(np.ascontiguousarray(rows[picked[part]], dtype=rows.dtype).tobytes())
        return file

    files, entries = list(rows.files), rows.rows.copy()
    if not (rows.fresh is None and (entries < 0).any()):  # else entries with no vector yet: segments as they are
        files, entries = compacted(files, rows.offsets, entries, write)
    np.save(staging / f"{name}.rows.npy", entries, allow_pickle=False)
    return files, written


def compacted(files: list[str], offsets: np.ndarray, entries: np.ndarray, write) -> tuple[list[str], np.ndarray]:
    """A generation's segment files and its entries' rows among them, once the entries not written yet (negative
    rows) are: ``write(kind, picked)`` writes a new segment holding entries ``picked``, in that order, and returns
    its file. Past MAX_SEGMENTS, or with mostly rows no entry reads, segments are merged (the module's docstring)."""
    new = np.flatnonzero(entries < 0)
    stored = int(offsets[-1])
    if not len(entries):
        return [], entries
    if stored + len(new) > 2 * len(entries):  # mostly rows no entry reads: one segment, in the entries' order
        return [write("all", np.arange(len(entries)))], np.arange(len(entries), dtype=np.int64)
    if len(new) and len(files) >= MAX_SEGMENTS:  # the largest segment stays; the rest, new rows too, become one
        largest = int(np.argmax(np.diff(offsets)))
        begin, end = offsets[largest], offsets[largest + 1]
        inside = (entries >= begin) & (entries < end)  # new rows (negative) are never inside
        others = np.flatnonzero(~inside)
        files = [files[largest], write("merged", others)]
        entries[inside] -= begin
        entries[others] = (end - begin) + np.arange(len(others))
    elif len(new):
        files = [*files, write("added", new)]
        entries[new] = stored + np.arange(len(new))
    return files, entries


def write_array(path: Path, parts: list[np.ndarray]) -> None:
    """A one-dimensional ``.npy`` file holding these arrays (of one type) one after the other, written a part at a
    time rather than joined in memory."""
    dtype = parts[0].dtype
    with open(path, "wb") as handle:
        _write_header(handle, dtype, (sum(len(part) for part in parts),))
        for part in parts:
            handle.write(memoryview(np.ascontiguousarray(part, dtype=dtype)))


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
