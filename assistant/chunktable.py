"""The chunks of an index, stored by column: loading a million of them reads three files, not a million records.

On disk, in a generation's ``chunks/`` folder::

    text.bin      the UTF-8 text of every chunk, one after the other
    numbers.npy   int64, one row per chunk: text begin and end in text.bin, start, end, page (-1: none),
                  and the codes of its source, title and heading in strings.json
    strings.json  the chunk ids, the distinct sources, titles and headings, and the CRC-32 of text.bin

A row is made into a ``Chunk`` only when asked for. A build carries the chunks of unchanged files over as runs of
rows (``take``), copied a run at a time, and adds the new files' chunks (``of``, ``concat``).

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
from assistant.stores import release_pages

# the columns of numbers.npy
BEGIN, END, START, STOP, PAGE, SOURCE, TITLE, HEADING = range(8)
_CODED = {SOURCE: "sources", TITLE: "titles", HEADING: "headings"}


class ChunkTable(Sequence):
    """Chunks by column; ``table[i]`` is chunk row i, made into a ``Chunk`` when asked for."""

    def __init__(self, ids: list[str], numbers: np.ndarray, text: np.ndarray, strings: dict[str, list[str]]):
        self.ids = ids  # chunk id of each row
        self.numbers = numbers  # int64 (n, 8): see the module's docstring
        self.text = text  # uint8: every chunk's UTF-8 text (a mapped file once loaded)
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
            bytes(self.text[begin:end]).decode("utf-8"),
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
        return cls([chunk.id for chunk in chunks], numbers.reshape(-1, 8), text, strings)

    def take(self, rows: np.ndarray) -> ChunkTable:
        """The table of these rows, in this order; texts are copied a run of consecutive rows at a time."""
        rows = np.asarray(rows, dtype=np.int64)
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        if len(rows) and not len(breaks):  # one run of rows
            return self._run(int(rows[0]), int(rows[-1]) + 1)
        numbers = self.numbers[rows]
        lengths = numbers[:, END] - numbers[:, BEGIN]
        runs = zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(rows)]])) if len(rows) else ()
        parts = [self.text[numbers[first, BEGIN] : numbers[last - 1, END]] for first, last in runs]
        text = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
        numbers[:, END] = np.cumsum(lengths)
        numbers[:, BEGIN] = numbers[:, END] - lengths
        return ChunkTable([self.ids[row] for row in rows.tolist()], numbers, text, self.strings)

    def _run(self, first: int, end: int) -> ChunkTable:
        """Rows ``first`` to ``end``: their text a view of this table's, not a copy."""
        numbers = self.numbers[first:end].copy()
        begin = int(numbers[0, BEGIN])
        text = self.text[begin : int(numbers[-1, END])]
        numbers[:, [BEGIN, END]] -= begin
        return ChunkTable(self.ids[first:end], numbers, text, self.strings)

    @classmethod
    def concat(cls, tables: list[ChunkTable]) -> ChunkTable:
        """The rows of every table, one table after the other; only the strings still used are kept."""
        numbers = np.concatenate([table.numbers for table in tables] or [np.zeros((0, 8), np.int64)])
        rows = np.cumsum([0] + [len(table) for table in tables])
        texts = np.cumsum([0] + [len(table.text) for table in tables])
        merged: dict[str, dict[str, int]] = {name: {} for name in _CODED.values()}
        for i, table in enumerate(tables):
            part = numbers[rows[i] : rows[i + 1]]  # a view: the table's rows, coded as in the table
            part[:, [BEGIN, END]] += texts[i]  # its texts come after those of the tables before it
            for column, name in _CODED.items():
                code = [merged[name].setdefault(value, len(merged[name])) for value in table.strings[name]]
                if len(part):
                    part[:, column] = np.asarray(code, np.int64)[part[:, column]]
        strings = {}
        for column, name in _CODED.items():
            used, numbers[:, column] = np.unique(numbers[:, column], return_inverse=True)
            distinct = list(merged[name])
            strings[name] = [distinct[code] for code in used.tolist()]
        text = np.concatenate([table.text for table in tables] or [np.zeros(0, np.uint8)])
        return cls([chunk_id for table in tables for chunk_id in table.ids], numbers, text, strings)

    def save(self, folder: Path) -> None:
        folder.mkdir()
        with open(folder / "text.bin", "wb") as handle:
            handle.write(memoryview(np.ascontiguousarray(self.text)))
        np.save(folder / "numbers.npy", np.ascontiguousarray(self.numbers, np.int64), allow_pickle=False)
        record = {"ids": self.ids, **self.strings, "text_crc32": zlib.crc32(memoryview(self.text))}
        (folder / "strings.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> ChunkTable:
        """Read what ``save`` wrote, checked (ValueError when it does not hold together); the text is mapped."""
        record = json.loads((folder / "strings.json").read_text(encoding="utf-8"))
        numbers = np.load(folder / "numbers.npy", allow_pickle=False)
        size = os.path.getsize(folder / "text.bin")
        text = np.memmap(folder / "text.bin", dtype=np.uint8, mode="r") if size else np.zeros(0, np.uint8)
        ids, strings = record["ids"], {name: record[name] for name in _CODED.values()}
        if numbers.dtype != np.int64 or numbers.shape != (len(ids), 8):
            raise ValueError(f"numbers.npy: {numbers.dtype} {numbers.shape}, expected int64 {(len(ids), 8)}")
        if zlib.crc32(memoryview(text)) != record["text_crc32"]:
            raise ValueError("text.bin does not match its checksum")
        release_pages(text)  # read through once for the checksum: a chunk's text is read again when asked for
        if len(ids) and (numbers[:, BEGIN].min() < 0 or numbers[:, END].max() > size):
            raise ValueError("text offsets past the end of text.bin")
        for column, name in _CODED.items():
            if len(ids) and not 0 <= numbers[:, column].min() <= numbers[:, column].max() < len(strings[name]):
                raise ValueError(f"{name} codes out of range")
        return cls(ids, numbers, text, strings)
