"""OneRoster fixtures: our authored sample sets (``samples/``: 1.1 and 1.2 bulk, a 1.2 delta), packages built
from them, a district."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from rostering.oneroster.importer import Importer
from tests.rostering import factories as f

SAMPLES = Path(__file__).resolve().parent / "samples"


@pytest.fixture(autouse=True)
def _storage(tmp_path, settings):
    settings.ONEROSTER = {**settings.ONEROSTER, "STORAGE_DIR": tmp_path / "oneroster-storage"}


@pytest.fixture
def samples() -> Path:
    assert SAMPLES.is_dir(), f"the sample sets are missing: {SAMPLES}"
    return SAMPLES


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for csv_file in sorted(folder.glob("*.csv")):
            zf.write(csv_file, csv_file.name)
    return target


@pytest.fixture
def copy_sample(samples, tmp_path):
    """A writable copy of one sample set (a folder), to break on purpose."""

    def make(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(samples / name, target)
        for p in target.iterdir():
            p.chmod(0o644)
        target.chmod(0o755)
        return target

    return make


@pytest.fixture
def district(db):
    return f.DistrictFactory(name="Maple Valley")


@pytest.fixture
def imported(district, samples):
    """The 1.2 bulk sample imported into ``district``."""
    report = Importer(district=district, path=samples / "oneroster-1.2-bulk").run()
    assert report.applied and not report.rejections, report.rejections
    return report


def rewrite(path: Path, replace: dict[str, str] | None = None, append: list[str] | None = None) -> None:
    text = path.read_text()
    for old, new in (replace or {}).items():
        assert old in text, f"{old!r} not in {path.name}"
        text = text.replace(old, new)
    if append:
        text = text.rstrip("\n") + "\n" + "\n".join(append) + "\n"
    path.write_text(text)
