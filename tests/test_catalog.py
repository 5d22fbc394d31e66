"""Tests of the YAML config loaders (catalog, policies, annotations) and their error messages."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from jobs.config.catalog import (
    AssetSpec,
    ColumnSpec,
    EdgeAnnotation,
    Policy,
    check_zones,
    load_annotations,
    load_catalog,
    load_policies,
    retention_for,
)
from jobs.errors import ConfigError

CATALOG = """\
retention_days:
  user: 1095
  user.contact: 730
assets:
  - name: crm.customers
    kind: table
    owner: crm-team
    zone: source
    columns:
      - {name: customer_id, type: bigint, data_category: user.unique_id, is_identifier: true, classification: restricted}
      - {name: email, type: string, data_category: user.contact.email, is_identifier: false, classification: confidential}
      - {name: country, type: string, data_category: null, is_identifier: false, classification: internal}
  - name: dash.revenue_overview
    kind: dashboard
    owner: bi-team
    zone: bi
"""
POLICIES = """\
zones:
  source: operational source systems
  ads: advertising
  bi: dashboards
policies:
  - name: religion-never-in-ads
    data_categories: [user.demographic.religious_belief]
    allowed_zones: [source, bi]
"""
ANNOTATIONS = """\
objects:
  user: directly
  post: by_any
edges:
  user_to_post: {src: user, dst: post, deletion: deep}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(loader, path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        loader(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_catalog_loads_typed_records(tmp_path: Path) -> None:
    cat = load_catalog(write(tmp_path, "catalog.yaml", CATALOG))
    assert cat.retention_days == {"user": 1095, "user.contact": 730}
    assert cat.assets[0] == AssetSpec(
        "crm.customers",
        "table",
        "crm-team",
        "source",
        (
            ColumnSpec("customer_id", "bigint", "user.unique_id", True, "restricted"),
            ColumnSpec("email", "string", "user.contact.email", False, "confidential"),
            ColumnSpec("country", "string", None, False, "internal"),
        ),
    )
    assert cat.assets[1] == AssetSpec("dash.revenue_overview", "dashboard", "bi-team", "bi", ())
    assert cat.asset("CRM.Customers") is cat.assets[0]
    assert cat.asset("crm.nope") is None
    assert cat.identifier_columns() == [("crm.customers", "customer_id")]


def test_column_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.yaml",
        """\
        assets:
          - name: app.users
            kind: table
            owner: app
            zone: source
            columns:
              - {name: user_id, type: bigint}
        """,
    )
    cat = load_catalog(path)
    assert cat.retention_days == {}
    assert cat.assets[0].columns == (ColumnSpec("user_id", "bigint", None, False, "internal"),)


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("user.contact.email", 730),
        ("user.contact", 730),
        ("user.contactless", 1095),
        ("user.unique_id", 1095),
        ("user", 1095),
        ("system.operations", None),
        (None, None),
        ("", None),
    ],
)
def test_retention_most_specific_prefix_wins(tmp_path: Path, category, expected) -> None:
    cat = load_catalog(write(tmp_path, "catalog.yaml", CATALOG))
    assert cat.retention_for(category) == expected
    assert retention_for({"user": 1095, "user.contact": 730}, category) == expected


def test_policies_and_annotations_load(tmp_path: Path) -> None:
    pol = load_policies(write(tmp_path, "policies.yaml", POLICIES))
    assert pol.zones == {
        "source": "operational source systems",
        "ads": "advertising",
        "bi": "dashboards",
    }
    assert pol.policies == (
        Policy("religion-never-in-ads", ("user.demographic.religious_belief",), ("source", "bi")),
    )
    assert [p.name for p in pol.violated("user.demographic.religious_belief", "ads")] == [
        "religion-never-in-ads"
    ]
    assert pol.violated("user.demographic.religious_belief", "bi") == []
    assert pol.violated("user.demographic", "ads") == []
    assert pol.violated("user.demographic.religious_beliefs", "ads") == []
    ann = load_annotations(write(tmp_path, "annotations.yaml", ANNOTATIONS))
    assert ann.objects == {"user": "directly", "post": "by_any"}
    assert ann.edges == {"user_to_post": EdgeAnnotation("user_to_post", "user", "post", "deep")}
    cat = load_catalog(write(tmp_path, "catalog.yaml", CATALOG))
    check_zones(cat, pol)


def _catalog_with_column(col: str) -> str:
    assets = "\n".join(
        f"  - {{name: s.t{i}, kind: table, owner: o, zone: source, columns: "
        f"[{{name: a, type: int}}, {{name: b, type: int}}]}}"
        for i in range(3)
    )
    return (
        f"assets:\n{assets}\n  - name: s.t3\n    kind: table\n    owner: o\n    zone: source\n"
        f"    columns:\n      - {{name: a, type: int}}\n      - {col}\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # bad enum with the full key path
        (
            _catalog_with_column("{name: b, type: int, classification: secret}"),
            (
                "assets[3].columns[1].classification: expected one of "
                "public|internal|confidential|restricted, got 'secret'"
            ),
        ),
        # misspelt enum value: the closest valid one is suggested
        (
            _catalog_with_column("{name: b, type: int, classification: confidental}"),
            "got 'confidental' (did you mean 'confidential'?)",
        ),
        # misspelt key
        (
            _catalog_with_column("{name: b, type: int, is_identifer: true}"),
            "assets[3].columns[1]: unknown key 'is_identifer' (did you mean 'is_identifier'?)",
        ),
        # ill-typed
        (
            _catalog_with_column("{name: b, type: int, is_identifier: 'yes'}"),
            "assets[3].columns[1].is_identifier: expected true or false, got 'yes'",
        ),
        (
            _catalog_with_column("{name: b, type: int, data_category: User Contact}"),
            "assets[3].columns[1].data_category: expected a dotted lower-case data category",
        ),
        # missing key
        (_catalog_with_column("{name: b}"), "assets[3].columns[1].type: missing key"),
        (
            "assets:\n  - {name: s.t, kind: table, zone: source}\n",
            "assets[0].owner: missing key (expected a non-empty string)",
        ),
        (
            "assets:\n  - {name: s.t, kind: tabel, owner: o, zone: source}\n",
            (
                "assets[0].kind: expected one of table|view|dashboard|pipeline|model|feature|log|api|"
                "file, got 'tabel' (did you mean 'table'?)"
            ),
        ),
        (
            "assets:\n  - {name: s.t, kind: table, ower: o, zone: source}\n",
            "assets[0]: unknown key 'ower' (did you mean 'owner'?)",
        ),
        ("asets: []\n", "unknown key 'asets' (did you mean 'assets'?)"),
        ("retention_days: {}\n", "assets: missing key (expected a list of assets)"),
        (
            "retention_days:\n  user: -3\nassets: []\n",
            "retention_days.user: expected a positive integer, got -3",
        ),
        (
            "retention_days:\n  user: true\nassets: []\n",
            "retention_days.user: expected a positive integer, got True",
        ),
        ("assets: {name: x}\n", "assets: expected a list, got a mapping"),
        ("- a\n- b\n", "top level: expected a mapping, got a list"),
        (
            "assets:\n  - {name: Customers, kind: table, owner: o, zone: source}\n",
            "assets[0].name: expected a fully qualified lower-case name",
        ),
        (
            (
                "assets:\n  - {name: s.t, kind: table, owner: o, zone: z}\n"
                "  - {name: s.t, kind: view, owner: o, zone: z}\n"
            ),
            "assets[1].name: duplicate asset 's.t' (first at assets[0])",
        ),
        (
            (
                "assets:\n  - {name: s.t, kind: table, owner: o, zone: z, columns: "
                "[{name: a, type: int}, {name: a, type: int}]}\n"
            ),
            "assets[0].columns[1].name: duplicate column 'a' in s.t",
        ),
        ("assets: [\n", "invalid YAML"),
    ],
)
def test_catalog_errors_name_file_key_and_expectation(tmp_path: Path, text, expected) -> None:
    message = error_of(load_catalog, write(tmp_path, "catalog.yaml", text))
    assert expected in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            POLICIES.replace("allowed_zones: [source, bi]", "allowed_zones: [source, add]"),
            (
                "policies[0].allowed_zones[1]: expected a declared zone (see zones), got 'add' "
                "(did you mean 'ads'?)"
            ),
        ),
        (
            POLICIES.replace("data_categories", "data_category"),
            "policies[0]: unknown key 'data_category' (did you mean 'data_categories'?)",
        ),
        (
            POLICIES.replace(
                "data_categories: [user.demographic.religious_belief]", "data_categories: []"
            ),
            "policies[0].data_categories: expected a non-empty list, got a list",
        ),
        (
            POLICIES.replace("    allowed_zones: [source, bi]\n", ""),
            "policies[0].allowed_zones: missing key",
        ),
        ("zones: {a: b}\n", "policies: missing key (expected a list of policies)"),
        (
            POLICIES.replace("  - name: religion-never-in-ads", "  - name: 42"),
            "policies[0].name: expected a non-empty string, got 42",
        ),
    ],
)
def test_policy_errors(tmp_path: Path, text, expected) -> None:
    assert expected in error_of(load_policies, write(tmp_path, "policies.yaml", text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            ANNOTATIONS.replace("deletion: deep", "deletion: deeep"),
            (
                "edges.user_to_post.deletion: expected one of deep|shallow|refcount, got 'deeep' "
                "(did you mean 'deep'?)"
            ),
        ),
        (
            ANNOTATIONS.replace("post: by_any", "post: by_anyone"),
            (
                "objects.post: expected one of directly|by_any|by_x_only|short_ttl|not_deleted, "
                "got 'by_anyone' (did you mean 'by_any'?)"
            ),
        ),
        (
            ANNOTATIONS.replace("dst: post", "dst: posts"),
            (
                "edges.user_to_post.dst: expected a declared object type (see objects), got 'posts' "
                "(did you mean 'post'?)"
            ),
        ),
        (
            ANNOTATIONS.replace("dst: post,", "dts: post,"),
            "edges.user_to_post: unknown key 'dts' (did you mean 'dst'?)",
        ),
        (
            ANNOTATIONS.replace("{src: user, dst: post, deletion: deep}", "deep"),
            "edges.user_to_post: expected a mapping, got a string",
        ),
        ("edges: {}\n", "objects: missing key"),
    ],
)
def test_annotation_errors(tmp_path: Path, text, expected) -> None:
    assert expected in error_of(load_annotations, write(tmp_path, "annotations.yaml", text))


def test_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert error_of(load_catalog, missing) == f"{missing}: file not found"
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    assert "cannot read the file" in error_of(load_policies, bad)
    empty = write(tmp_path, "empty.yaml", "")
    assert (
        error_of(load_annotations, empty) == f"{empty}: top level: expected a mapping, got nothing"
    )


def test_check_zones_suggests_declared_zone(tmp_path: Path) -> None:
    cat = load_catalog(write(tmp_path, "catalog.yaml", CATALOG.replace("zone: bi", "zone: bii")))
    pol = load_policies(write(tmp_path, "policies.yaml", POLICIES))
    with pytest.raises(
        ConfigError,
        match=r"assets\[1\]\.zone: expected a zone declared in .*"
        r"got 'bii' \(did you mean 'bi'\?\)",
    ):
        check_zones(cat, pol)
