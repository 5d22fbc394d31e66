"""Every YAML example of docs/configuration.md loads through the product's validators."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jobs.config.catalog import check_zones, load_annotations, load_catalog, load_policies
from jobs.config.settings import load_config

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.S | re.M)
LOADERS = {
    "catalog.yaml": load_catalog,
    "policies.yaml": load_policies,
    "annotations.yaml": load_annotations,
    "configuration (--conf)": lambda p: load_config(p, env={}),
}


def _blocks() -> list[tuple[str, str]]:
    out = []
    for text in BLOCK.findall(DOC.read_text(encoding="utf-8")):
        first = text.splitlines()[0]
        assert first.startswith("# "), f"example without a '# <file>' first line: {first!r}"
        out.append((first[2:].strip(), text))
    return out


def test_the_page_has_an_example_of_each_file():
    assert sorted({kind for kind, _ in _blocks()}) == sorted(LOADERS)


@pytest.mark.parametrize("kind, text", _blocks(), ids=lambda v: v if len(v) < 30 else None)
def test_example_loads(kind, text, tmp_path):
    path = tmp_path / "example.yaml"
    path.write_text(text, encoding="utf-8")
    assert LOADERS[kind](path) is not None


def test_examples_agree_with_each_other_and_say_what_they_declare(tmp_path):
    loaded = {}
    catalogs = []
    for i, (kind, text) in enumerate(_blocks()):
        path = tmp_path / f"{i}-{kind.split()[0]}"
        path.write_text(text, encoding="utf-8")
        loaded.setdefault(kind, LOADERS[kind](path))
        if kind == "catalog.yaml":
            catalogs.append(LOADERS[kind](path))
    catalog, policies = loaded["catalog.yaml"], loaded["policies.yaml"]
    for cat in catalogs:
        check_zones(cat, policies)  # every zone of assets, systems and activities is declared
    processing = catalogs[-1].processing
    assert [a.key for a in processing.activities] == ["customer_accounts", "ads_audiences"]
    assert processing.activities[1].transfers[0].safeguard == "standard_contractual_clauses"
    assert [a.key for a in processing.covering("ads.audience", "ads")] == ["ads_audiences"]
    assert catalog.asset("mail.sent_messages").time_column == "sent_at"
    assert catalog.hash_columns() == {("ads.audience", "customer_hash"): "sha256_hex"}
    assert loaded["annotations.yaml"].objects["photo"] == "by_user_only"
    conf = loaded["configuration (--conf)"]
    assert (conf.deletion.max_exceptions, conf.deletion.progress_events) == (3, 4)


def test_by_type_only_must_name_a_declared_object_type(tmp_path):
    path = tmp_path / "annotations.yaml"
    path.write_text("objects: {user: directly, photo: by_usr_only}\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"objects\.photo: expected a declared object type"):
        load_annotations(path)
