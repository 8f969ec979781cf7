"""Reading CSV files with line numbers and a strict header; writing them with formulas neutralised."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # the reader's type exists only in the stubs
    from _csv import Reader


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class ImportRefused(ValueError):
    """The file has problems; nothing was written."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems)
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        super().__init__(f"{source}: {count}, nothing was imported")

    def report(self) -> str:
        """Every problem, each with ``file:line:`` (just ``file:`` when it is about the whole file)."""
        lines = [str(self)] + [f"  {self.source}:{p.line}: {p.message}" if p.line else f"  {self.source}: {p.message}"
                               for p in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values[key]


def read_rows(path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
              ) -> tuple[list[Row], list[Problem]]:
    """Rows of ``path`` keyed by ``columns`` (and ``optional`` ones, "" when absent), each with
    the line it starts on.

    The header must name exactly ``columns`` and any of ``optional`` (any order); blank lines are skipped.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return [], [Problem(0, "file not found (check the path)")]
    except IsADirectoryError:
        return [], [Problem(0, "is a folder, not a CSV file")]
    except OSError as e:
        return [], [Problem(0, f"cannot be read: {e.strerror}")]
    except UnicodeDecodeError as e:
        return [], [Problem(0, f"not UTF-8 text ({e.reason} at byte {e.start}); save the file as UTF-8 CSV")]
    return parse_rows(text, columns, optional)


# A cell a spreadsheet would run as a formula (OWASP, "CSV Injection"): =, +, -, @, a tab or a carriage return first.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def guard_cell(value: object) -> str:
    """``value`` as a CSV cell that Excel and LibreOffice show as text: a cell that would start a
    formula gets a single quote in front (a plain number such as ``-12.5`` stays a number)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def unguard_cell(text: str) -> str:
    """The inverse of ``guard_cell`` on import, so a file this product wrote reads back the same."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def clean_cell(text: str) -> str:
    """A cell as read: spaces around it go, a leading tab does not (``\t=1+1`` must not become a formula),
    and the quote ``guard_cell`` added is taken off."""
    return unguard_cell(text.strip(" "))


class GuardedWriter:
    """``csv.writer`` with every cell passed through ``guard_cell``: every CSV the product writes uses it."""

    def __init__(self, out: TextIO, *, delimiter: str = ",") -> None:
        self._writer = csv.writer(out, lineterminator="\n", delimiter=delimiter)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([guard_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: TextIO, *, delimiter: str = ",") -> GuardedWriter:
    return GuardedWriter(out, delimiter=delimiter)


def other_delimiter(first_line: str) -> str | None:
    """``;`` or a tab when the header line is separated by that rather than by commas."""
    for d in (";", "\t"):
        if first_line.count(d) > first_line.count(","):
            return d
    return None


def delimiter_hint(first_line: str) -> str:
    d = other_delimiter(first_line)
    if d is None:
        return ""
    return f"; this file uses {'a tab' if d == chr(9) else repr(d)} between fields: save it with commas"


def parse_rows(text: str, columns: tuple[str, ...], optional: tuple[str, ...] = ()
               ) -> tuple[list[Row], list[Problem]]:
    reader = records(csv.reader(io.StringIO(text, newline="")))
    try:
        header = [h.strip().lower() for h in next(reader)[1]]
    except StopIteration:
        return [], [Problem(1, f"the file is empty; the first line must be the header: {','.join(columns)}")]
    except UnreadableCsv as e:
        return [], [e.problem()]
    missing = [c for c in columns if c not in header]
    extra = [h for h in header if h not in columns and h not in optional]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if missing or extra or dupes:
        parts = []
        if missing:
            parts.append(f"missing {_columns(missing)}")
        if extra:
            parts.append(f"unknown {_columns(extra)}")
        if dupes:
            parts.append(f"repeated {_columns(dupes)}")
        hint = delimiter_hint(text.split("\n", 1)[0])
        return [], [Problem(1, "; ".join(parts) + f" (expected header: {','.join(columns)}){hint}")]
    rows: list[Row] = []
    problems: list[Problem] = []
    try:
        for line, record in fitting(reader, len(header), problems):
            values = dict.fromkeys(optional, "")
            values.update({h: clean_cell(v) for h, v in zip(header, record, strict=True)})
            rows.append(Row(line, values))
    except UnreadableCsv as e:
        problems.append(e.problem())
    return rows, problems


def _columns(names: list[str]) -> str:
    return ("column " if len(names) == 1 else "columns ") + ", ".join(names)


def fitting(rows: Iterable[tuple[int, list[str]]], width: int, problems: list[Problem]
            ) -> Iterator[tuple[int, list[str]]]:
    """The records that are not blank and have ``width`` fields; one of another width is a problem on its line."""
    for line, values in rows:
        if not any(v.strip() for v in values):
            continue
        if len(values) != width:
            problems.append(Problem(line, f"expected {width} fields, found {len(values)}"))
            continue
        yield line, values


class UnreadableCsv(ValueError):
    """The csv module gave up on the file at ``line`` (a field past its size limit, a NUL byte)."""

    def __init__(self, line: int, error: csv.Error) -> None:
        self.line = line
        why = str(error)
        if "field larger than field limit" in why:
            why = f"a field is longer than {csv.field_size_limit():,} characters; is a quote left open before it?"
        super().__init__(f"cannot be read as CSV from here: {why}")

    def problem(self) -> Problem:
        return Problem(self.line, str(self))


def records(reader: Reader) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on (``reader.line_num`` is the line it ends on);
    UnreadableCsv where the csv module cannot go on."""
    start = reader.line_num + 1
    try:
        for record in reader:
            yield start, record
            start = reader.line_num + 1
    except csv.Error as e:
        raise UnreadableCsv(start, e) from e
