"""Reading a OneRoster package (a zip, or a folder of CSV files) one row at a time.

Nothing here reads a whole file: ``rows()`` streams a member of the zip through the csv module, so a
100,000-user package never sits in memory whole.
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

csv.field_size_limit(min(sys.maxsize, 1024 * 1024))


class PackageError(ValueError):
    """The upload is not a OneRoster package at all (not a zip, no CSV files)."""


class Package:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        self.others: list[str] = []  # entries that are not CSV files at the root
        if self.path.is_dir():
            for child in sorted(self.path.iterdir()):
                if child.is_file() and child.suffix.lower() == ".csv":
                    self._members[child.stem] = str(child)
                elif child.is_file():
                    self.others.append(child.name)
        else:
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise PackageError("The file is not a zip archive.") from exc
            for info in self._zip.infolist():
                if info.is_dir() or info.filename.startswith("__MACOSX/") or Path(info.filename).name.startswith("."):
                    continue
                name = info.filename
                if "/" not in name and name.lower().endswith(".csv"):
                    self._members[name[:-4]] = name
                else:
                    self.others.append(name)
        if not self._members:
            raise PackageError("The package holds no CSV files at its root.")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def names(self) -> set[str]:
        return set(self._members)

    def size(self, name: str) -> int:
        member = self._members[name]
        if self._zip is not None:
            return self._zip.getinfo(member).file_size
        return Path(member).stat().st_size

    def rows(self, name: str) -> Iterator[tuple[int, list[str]]]:
        """(line, cells) for every record of ``name``.csv; the header is line 1."""
        member = self._members[name]
        raw = self._zip.open(member) if self._zip is not None else open(member, "rb")  # noqa: SIM115
        with raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.reader(text, strict=True)
            line = 0
            try:
                for cells in reader:
                    line += 1
                    if not cells or cells == [""]:
                        continue
                    yield line, cells
            except UnicodeDecodeError as exc:
                raise PackageError(f"{name}.csv is not UTF-8 text (near line {line + 1}).") from exc
            except csv.Error as exc:
                raise PackageError(f"{name}.csv is not valid CSV near line {line + 1}: {exc}.") from exc
