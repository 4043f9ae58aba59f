"""The chunks of an index, stored by column: loading a million of them reads a few files, not a million records.

On disk, in a generation's ``chunks/`` folder::

    numbers.npy   int64, one row per chunk: text begin and end, start, end, page (-1: none),
                  and the codes of its source, title and heading in strings.json
    strings.json  the chunk ids, the distinct sources, titles and headings, and the CRC-32 of each text segment

The chunks' UTF-8 text lives in segment files of ``index/stores/`` (``text-*.bin``) that generations share, as
they share vectors (assistant/stores.py): a chunk's begin and end are offsets in its generation's segments read one
after the other. A build adds one segment with the text of the chunks it read, and carries the other chunks over
by their numbers alone. Past MAX_SEGMENTS, the text of all but the largest segment is written again as one; when
less than half the text stored is read, all of it is.

A row is made into a ``Chunk`` only when asked for. A build carries the chunks of unchanged files over as runs of
rows (``take``) and adds the new files' chunks (``of``, ``concat``).

>>> chunks = [Chunk("a1", "x.txt", "X", "Été.", 0, 4), Chunk("b2", "y.md", "Y", "Deux.", 0, 5, "Partie", 2)]
>>> table = ChunkTable.of(chunks)
>>> table[1] == chunks[1], list(table.take(np.array([1, 0]))) == chunks[::-1]
(True, True)
>>> ChunkTable.concat([table, ChunkTable.of([])]) == table
True
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from assistant.records import Chunk
from assistant.stores import MAX_SEGMENTS, STORES, release_pages

# the columns of numbers.npy
BEGIN, END, START, STOP, PAGE, SOURCE, TITLE, HEADING = range(8)
_CODED = {SOURCE: "sources", TITLE: "titles", HEADING: "headings"}


class Texts:
    """The text of a table's chunks: the bytes of ``segments`` (mapped files, listed in ``files``, with their
    CRC-32) one after the other, then ``fresh`` (the text of chunks read by this build, not written yet). A chunk's
    begin and end are offsets in that sequence, and never span two parts."""

    def __init__(self, segments: list[np.ndarray], files: list[str], crcs: list[int], fresh: np.ndarray) -> None:
        self.segments, self.files, self.crcs, self.fresh = segments, files, crcs, fresh
        self.offsets = np.cumsum([0] + [len(segment) for segment in segments])
        self.stored = int(self.offsets[-1])

    def read(self, begin: int, end: int) -> bytes:
        return bytes(self._bytes(begin, end))

    def write(self, path: Path, numbers: np.ndarray, base: int) -> tuple[np.ndarray, int]:
        """The text of these rows, one after the other, into a new segment file; their new begin and end (the
        segment starting at offset ``base``) and its CRC-32. Runs of consecutive texts are copied at once."""
        begins, ends = numbers[:, BEGIN], numbers[:, END]
        moved = np.empty((len(numbers), 2), np.int64)
        lengths = ends - begins
        moved[:, 1] = base + np.cumsum(lengths)
        moved[:, 0] = moved[:, 1] - lengths
        part = np.searchsorted(self.offsets, begins, side="right")  # len(segments) + 1: the fresh text
        breaks = np.flatnonzero((begins[1:] != ends[:-1]) | (part[1:] != part[:-1])) + 1
        crc = 0
        with open(path, "wb") as handle:
            for first, last in zip([0, *breaks.tolist()], [*breaks.tolist(), len(numbers)]):
                data = memoryview(np.ascontiguousarray(self._bytes(int(begins[first]), int(ends[last - 1]))))
                handle.write(data)
                crc = zlib.crc32(data, crc)
        return moved, crc

    def _bytes(self, begin: int, end: int) -> np.ndarray:
        """Bytes ``begin`` to ``end``, of one part."""
        if begin >= self.stored:
            return self.fresh[begin - self.stored : end - self.stored]
        number = int(np.searchsorted(self.offsets, begin, side="right")) - 1
        first = int(self.offsets[number])
        return self.segments[number][begin - first : end - first]


class ChunkTable(Sequence):
    """Chunks by column; ``table[i]`` is chunk row i, made into a ``Chunk`` when asked for."""

    def __init__(self, ids: list[str], numbers: np.ndarray, text: Texts, strings: dict[str, list[str]]):
        self.ids = ids  # chunk id of each row
        self.numbers = numbers  # int64 (n, 8): see the module's docstring
        self.text = text  # every chunk's UTF-8 text
        self.strings = strings  # "sources", "titles", "headings": the distinct values the codes point to

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        begin, end, start, stop, page, source, title, heading = self.numbers[row].tolist()
        return Chunk(
            self.ids[row],
            self.strings["sources"][source],
            self.strings["titles"][title],
            self.text.read(begin, end).decode("utf-8"),
            start,
            stop,
            self.strings["headings"][heading],
            None if page < 0 else page,
        )

    def __iter__(self) -> Iterator[Chunk]:
        return (self[row] for row in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChunkTable | list):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None

    def runs_by_source(self) -> dict[str, range]:
        """The rows of each source whose chunks are one run of consecutive rows (as a build lays them out)."""
        codes = self.numbers[:, SOURCE]
        if not len(codes):
            return {}
        begins = np.concatenate([[0], np.flatnonzero(np.diff(codes)) + 1])
        ends = np.concatenate([begins[1:], [len(codes)]])
        once = np.bincount(codes[begins]) == 1  # sources whose rows are not split in several runs
        names = self.strings["sources"]
        return {
            names[code]: range(begin, end)
            for code, begin, end in zip(codes[begins].tolist(), begins.tolist(), ends.tolist())
            if once[code]
        }

    def sources(self) -> np.ndarray:
        """The source path of every row (object array)."""
        return np.asarray(self.strings["sources"], dtype=object)[self.numbers[:, SOURCE]]

    @classmethod
    def of(cls, chunks: Iterable[Chunk]) -> ChunkTable:
        chunks = list(chunks)
        texts = [chunk.text.encode("utf-8") for chunk in chunks]
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        numbers = np.zeros((len(chunks), 8), dtype=np.int64)
        numbers[:, END] = np.cumsum(lengths)
        numbers[:, BEGIN] = numbers[:, END] - lengths
        strings: dict[str, list[str]] = {}
        for column, name in _CODED.items():
            values = [getattr(chunk, name[:-1]) for chunk in chunks]
            distinct = list(dict.fromkeys(values))
            code = {value: i for i, value in enumerate(distinct)}
            numbers[:, column] = [code[value] for value in values]
            strings[name] = distinct
        numbers[:, START] = [chunk.start for chunk in chunks]
        numbers[:, STOP] = [chunk.end for chunk in chunks]
        numbers[:, PAGE] = [-1 if chunk.page is None else chunk.page for chunk in chunks]
        text = np.frombuffer(b"".join(texts), dtype=np.uint8) if texts else np.zeros(0, np.uint8)
        return cls([chunk.id for chunk in chunks], numbers.reshape(-1, 8), Texts([], [], [], text), strings)

    def take(self, rows: np.ndarray) -> ChunkTable:
        """The table of these rows, in this order: their numbers, pointing to the same text."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and np.all(np.diff(rows) == 1):  # one run of rows
            ids = self.ids[int(rows[0]) : int(rows[-1]) + 1]
        else:
            ids = [self.ids[row] for row in rows.tolist()]
        return ChunkTable(ids, self.numbers[rows], self.text, self.strings)

    @classmethod
    def concat(cls, tables: list[ChunkTable]) -> ChunkTable:
        """The rows of every table, one table after the other; only the strings still used are kept. The tables
        hold the text of one set of segments at most (a build's current index), besides text read now."""
        stored = [table.text for table in tables if table.text.files]
        if any(text.files != stored[0].files for text in stored):
            raise ValueError("chunks of two indexes cannot be joined")
        segments = stored[0] if stored else Texts([], [], [], np.zeros(0, np.uint8))
        fresh: dict[int, int] = {}  # each distinct fresh text (tables taken from one share it), by its place
        parts: list[np.ndarray] = []
        for table in tables:
            if id(table.text.fresh) not in fresh:
                fresh[id(table.text.fresh)] = segments.stored + sum(len(part) for part in parts)
                parts.append(table.text.fresh)
        numbers = np.concatenate([table.numbers for table in tables] or [np.zeros((0, 8), np.int64)])
        rows = np.cumsum([0] + [len(table) for table in tables])
        merged: dict[str, dict[str, int]] = {name: {} for name in _CODED.values()}
        for i, table in enumerate(tables):
            part = numbers[rows[i] : rows[i + 1]]  # a view: the table's rows, coded as in the table
            read_now = part[:, BEGIN] >= table.text.stored  # their text is the table's fresh one: it moves
            part[read_now, BEGIN : END + 1] += fresh[id(table.text.fresh)] - table.text.stored
            for column, name in _CODED.items():
                code = [merged[name].setdefault(value, len(merged[name])) for value in table.strings[name]]
                if len(part):
                    part[:, column] = np.asarray(code, np.int64)[part[:, column]]
        strings = {}
        for column, name in _CODED.items():
            used, numbers[:, column] = np.unique(numbers[:, column], return_inverse=True)
            distinct = list(merged[name])
            strings[name] = [distinct[code] for code in used.tolist()]
        text = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
        text = Texts(segments.segments, segments.files, segments.crcs, text)
        return cls([chunk_id for table in tables for chunk_id in table.ids], numbers, text, strings)

    def save(self, folder: Path, index_dir: Path, generation: str, written: list[Path]) -> list[str]:
        """Write the table into ``folder``, and the text of its chunks read now as a new segment of
        ``index_dir``'s stores (or segments merged: the module's docstring), added to ``written``. Returns the
        generation's text segment files."""
        folder.mkdir()
        text, numbers = self.text, self.numbers.copy()
        files, crcs = list(text.files), list(text.crcs)
        begins, lengths = numbers[:, BEGIN], numbers[:, END] - numbers[:, BEGIN]
        read_now = begins >= text.stored
        kept = int(lengths[~read_now].sum())

        def write(kind: str, rows: np.ndarray, base: int) -> None:
            file = f"{STORES}/text-{generation}-{kind}.bin"
            written.append(index_dir / file)  # removed if the build fails, even half written
            numbers[rows, BEGIN : END + 1], crc = text.write(index_dir / file, numbers[rows], base)
            files.append(file)
            crcs.append(crc)

        (index_dir / STORES).mkdir(exist_ok=True)
        added = int(lengths[read_now].sum())
        if text.stored + added > 2 * (kept + added) or not files:
            files, crcs = [], []
            if len(numbers):
                write("all", np.arange(len(numbers)), 0)
        elif read_now.any() and len(files) >= MAX_SEGMENTS:  # the largest segment stays; the rest become one
            largest = int(np.argmax(np.diff(text.offsets)))
            begin, end = int(text.offsets[largest]), int(text.offsets[largest + 1])
            inside = (begins >= begin) & (begins < end)
            files, crcs = [files[largest]], [crcs[largest]]
            numbers[inside, BEGIN : END + 1] -= begin
            write("merged", np.flatnonzero(~inside), end - begin)
        elif read_now.any():
            write("added", np.flatnonzero(read_now), text.stored)
        np.save(folder / "numbers.npy", np.ascontiguousarray(numbers, np.int64), allow_pickle=False)
        record = {"ids": self.ids, **self.strings, "text_crc32": crcs}
        (folder / "strings.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        return files

    @classmethod
    def load(cls, folder: Path, index_dir: Path, files: list[str] | None) -> ChunkTable:
        """Read what ``save`` wrote, checked (ValueError when it does not hold together); the text is mapped.
        Without ``files``, the text is the folder's own ``text.bin`` (an index of format 5)."""
        record = json.loads((folder / "strings.json").read_text(encoding="utf-8"))
        numbers = np.load(folder / "numbers.npy", allow_pickle=False)
        paths = [index_dir / file for file in files] if files is not None else [folder / "text.bin"]
        crcs = record["text_crc32"] if files is not None else [record["text_crc32"]]
        segments = [_mapped(path) for path in paths]
        ids, strings = record["ids"], {name: record[name] for name in _CODED.values()}
        if numbers.dtype != np.int64 or numbers.shape != (len(ids), 8):
            raise ValueError(f"numbers.npy: {numbers.dtype} {numbers.shape}, expected int64 {(len(ids), 8)}")
        if len(crcs) != len(segments):
            raise ValueError(f"{len(crcs)} checksums for {len(segments)} text segments")
        for path, segment, crc in zip(paths, segments, crcs):
            if zlib.crc32(memoryview(segment)) != crc:
                raise ValueError(f"{path.name} does not match its checksum")
            release_pages(segment)  # read through once for the checksum: a chunk's text is read again when asked for
        text = Texts(segments, list(files) if files is not None else [str(paths[0])], crcs, np.zeros(0, np.uint8))
        if len(ids) and (numbers[:, BEGIN].min() < 0 or numbers[:, END].max() > text.stored):
            raise ValueError("text offsets past the end of the text segments")
        for column, name in _CODED.items():
            if len(ids) and not 0 <= numbers[:, column].min() <= numbers[:, column].max() < len(strings[name]):
                raise ValueError(f"{name} codes out of range")
        return cls(ids, numbers, text, strings)


def _mapped(path: Path) -> np.ndarray:
    return np.memmap(path, dtype=np.uint8, mode="r") if os.path.getsize(path) else np.zeros(0, np.uint8)
