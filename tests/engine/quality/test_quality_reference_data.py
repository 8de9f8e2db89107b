"""The tables shipped in engine/quality/data/ must equal the shared reference (the truth)."""
from __future__ import annotations

import json
from importlib import resources

import pytest

from engine.quality import QualityInputError, reference as shipped


@pytest.mark.parametrize("name", shipped.DATA_FILES)
def test_shipped_copy_equals_shared_reference(reference, name):
    assert shipped.load(name) == reference(name)


@pytest.mark.parametrize("name", shipped.DATA_FILES)
def test_data_file_is_inside_the_package(name):
    path = resources.files("engine.quality").joinpath("data", name)
    assert path.is_file()
    json.loads(path.read_text(encoding="utf-8"))


def test_loading_is_cached():
    assert shipped.load("aql_single_normal.json") is shipped.load("aql_single_normal.json")


def test_unknown_data_file_is_refused():
    with pytest.raises(KeyError):
        shipped.load("../../../etc/passwd")


def test_error_is_a_qms_error_and_a_value_error():
    from engine.errors import QMSError
    assert issubclass(QualityInputError, QMSError) and issubclass(QualityInputError, ValueError)


def test_importing_the_package_reads_no_table():
    import subprocess
    import sys
    from pathlib import Path
    code = ("import engine.quality, engine.quality.reference as r; "
            "print(r.load.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.strip() == "0"
