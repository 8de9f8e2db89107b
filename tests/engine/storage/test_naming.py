"""Names of generated tables: only from safe identifiers, ≤ 63 characters, stable hashes."""
import hashlib

import pytest

from engine.errors import DefinitionError
from engine.storage import naming


def test_table_names_follow_tenant_form_and_subtable_path():
    assert naming.record_table_name(1, "iqc") == "t1_iqc"
    assert naming.record_table_name(1, "iqc", ("characteristics",)) == "t1_iqc__characteristics"
    assert naming.record_table_name(12, "iqc", ("characteristics", "readings")) == \
        "t12_iqc__characteristics__readings"


def test_long_name_is_cut_with_a_stable_hash():
    key, sub, subsub = "a" * 40, "b" * 40, "c" * 40
    name = naming.record_table_name(7, key, (sub, subsub))
    assert len(name) == naming.MAX_IDENTIFIER
    assert name.startswith("t7_" + "a" * 40 + "__bbbb")
    assert name == naming.record_table_name(7, key, (sub, subsub))            # deterministic
    other = naming.record_table_name(7, key, (sub, "c" * 39 + "d"))
    assert other != name and other[:54] == name[:54]                           # the hash tells them apart


def test_shorten_keeps_short_names_and_pins_the_hash_algorithm():
    # the hash is part of stored table names: it must never change between releases
    assert naming.shorten("t1_iqc") == "t1_iqc"
    long = "x" * 70
    assert naming.shorten(long) == "x" * 54 + "_" + hashlib.sha256(long.encode()).hexdigest()[:8]


@pytest.mark.parametrize("bad", ["Iqc", "1iqc", "iqc;drop", "a__b", "", "x" * 41, "iqc-x", "é"])
def test_unsafe_keys_are_refused_with_a_bilingual_problem(bad):
    with pytest.raises(DefinitionError) as err:
        naming.record_table_name(1, bad)
    message = err.value.problems[0].message
    assert "Identifier" in message.en and "标识符" in message.zh


@pytest.mark.parametrize("tenant", [-1, "1", True, 1.0])
def test_tenant_id_must_be_an_integer(tenant):
    with pytest.raises(ValueError):
        naming.record_table_name(tenant, "iqc")


def test_safe_sql_name_rejects_anything_but_plain_identifiers():
    assert naming.safe_sql_name("ix_t1_iqc_status") == "ix_t1_iqc_status"
    for bad in ('t1"; drop table x; --', "T1", "t" * 64, "1t"):
        with pytest.raises(ValueError):
            naming.safe_sql_name(bad)
