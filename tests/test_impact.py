"""Impact of a schema change, upstream/downstream neighbourhoods, and node naming."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality

from lineage.graph.impact import affected_assets, downstream, impact, node_name, upstream
from lineage.graph.nodes import split_node, with_zone

EDGES = [
    ("crm.customers.email", "stg.customers.email", 1.0),
    ("crm.customers.id", "stg.customers.id", 1.0),
    ("crm.customers.name", "stg.customers.name", 1.0),
    ("stg.customers.email", "mart.contacts.email", 0.9),
    ("stg.customers.id", "mart.contacts.id", 1.0),
    ("mart.contacts.email", "dash.weekly", 0.5),
    ("crm.customers", "etl.export", 1.0),
    ("etl.export", "files.dump", 1.0),
]
IMPACT_SCHEMA = (
    "changed string, node string, asset string, column string, depth int, confidence double, "
    "path array<string>"
)
NEIGHBOUR_SCHEMA = (
    "source string, node string, depth int, confidence double, path array<string>, "
    "asset string, column string"
)
E0, E1, E2 = "crm.customers.email", "stg.customers.email", "mart.contacts.email"
COLUMN_ROWS = [
    (E0, E1, "stg.customers", "email", 1, 1.0, [E0, E1]),
    (E0, E2, "mart.contacts", "email", 2, 0.9, [E0, E1, E2]),
    (E0, "dash.weekly", "dash.weekly", None, 3, 0.45, [E0, E1, E2, "dash.weekly"]),
]
TABLE_ROWS = [
    ("crm.customers", "etl.export", "etl.export", None, 1, 1.0, ["crm.customers", "etl.export"]),
    (
        "crm.customers",
        "files.dump",
        "files.dump",
        None,
        2,
        1.0,
        ["crm.customers", "etl.export", "files.dump"],
    ),
]


@pytest.fixture(scope="module")
def edges(spark):
    return spark.createDataFrame(EDGES, "src string, dst string, confidence double")


def _eq(actual, expected):
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_dropping_a_column_reaches_column_and_table_level_consumers(spark, edges):
    got = impact(edges, "crm.customers", columns=["email"])
    _eq(got, spark.createDataFrame(COLUMN_ROWS + TABLE_ROWS, IMPACT_SCHEMA))


def test_column_only_impact(spark, edges):
    got = impact(edges, "crm.customers", columns=["email"], include_table=False)
    _eq(got, spark.createDataFrame(COLUMN_ROWS, IMPACT_SCHEMA))


def test_unused_column_is_safe_to_change(spark, edges):
    got = impact(edges, "stg.customers", columns=["name"], include_table=False)
    _eq(got, spark.createDataFrame([], IMPACT_SCHEMA))


def test_affected_assets_group_by_asset(spark, edges):
    rows = impact(edges, "crm.customers", columns=["email", "id"], include_table=False)
    expected = spark.createDataFrame(
        [
            ("stg.customers", 1, ["email", "id"], [E0, E1]),
            (
                "mart.contacts",
                2,
                ["email", "id"],
                ["crm.customers.id", "stg.customers.id", "mart.contacts.id"],
            ),
            ("dash.weekly", 3, [], [E0, E1, E2, "dash.weekly"]),
        ],
        "asset string, depth int, columns array<string>, path array<string>",
    )
    _eq(affected_assets(rows), expected)


def test_affected_assets_say_whether_column_lineage_confirms_them(spark, edges):
    rows = impact(edges, "crm.customers", columns=["email"], include_table=True)
    got = affected_assets(rows, "crm.customers").select("asset", "columns", "evidence")
    expected = spark.createDataFrame(
        [
            ("stg.customers", ["email"], "confirmed"),
            ("mart.contacts", ["email"], "confirmed"),
            ("dash.weekly", [], "confirmed"),  # the dashboard reads the changed column
            ("etl.export", [], "possible"),  # reads the table: maybe not the column
            ("files.dump", [], "possible"),
        ],
        "asset string, columns array<string>, evidence string",
    )
    _eq(got, expected)


def test_upstream_paths_run_in_flow_direction(spark, edges):
    got = upstream(edges, [E2])
    expected = spark.createDataFrame(
        [
            (E2, E1, 1, 0.9, [E1, E2], "stg.customers", "email"),
            (E2, E0, 2, 0.9, [E0, E1, E2], "crm.customers", "email"),
        ],
        NEIGHBOUR_SCHEMA,
    )
    _eq(got, expected)


def test_downstream_to_a_depth(spark, edges):
    got = downstream(edges, [E0], depth=2)
    expected = spark.createDataFrame(
        [
            (E0, E1, 1, 1.0, [E0, E1], "stg.customers", "email"),
            (E0, E2, 2, 0.9, [E0, E1, E2], "mart.contacts", "email"),
        ],
        NEIGHBOUR_SCHEMA,
    )
    _eq(got, expected)


@pytest.mark.parametrize(
    ("node", "parts"),
    [
        ("crm.customers.email", ("crm.customers", "email")),
        ("crm.customers", ("crm.customers", None)),
        ("customers", ("customers", None)),
    ],
)
def test_split_node(node, parts):
    assert split_node(node) == parts
    assert node_name(*parts) == node


def test_zone_of_a_node_prefers_its_own_entry(spark):
    nodes = spark.createDataFrame(
        [("ads.t.a",), ("ads.t.b",), ("ads.t",), ("x.y.z",)], "node string"
    )
    zones = spark.createDataFrame(
        [("ads.t", "ads"), ("ads.t.b", "dating")], "asset string, zone string"
    )
    expected = spark.createDataFrame(
        [("ads.t.a", "ads"), ("ads.t.b", "dating"), ("ads.t", "ads"), ("x.y.z", None)],
        "node string, zone string",
    )
    _eq(with_zone(nodes, "node", zones), expected)


# -- the same rules without Spark (lineage.graph.impact_rows), against the same expected rows --

GRAPH = {(s, d): c for s, d, c in EDGES}
IMPACT_FIELDS = ("changed", "node", "asset", "column", "depth", "confidence", "path")


def _as_rows(tuples):
    return sorted(
        (dict(zip(IMPACT_FIELDS, t, strict=True)) for t in tuples), key=lambda r: r["node"]
    )


def test_impact_without_spark_gives_the_spark_rows():
    from lineage.graph import impact_rows

    got = impact_rows.impact(GRAPH, "crm.customers", columns=["email"])
    assert got == _as_rows(COLUMN_ROWS + TABLE_ROWS)
    got = impact_rows.impact(GRAPH, "crm.customers", columns=["email"], include_table=False)
    assert got == _as_rows(COLUMN_ROWS)
    assert impact_rows.impact(GRAPH, "stg.customers", columns=["name"], include_table=False) == []
    assert impact_rows.impact(GRAPH, "crm.customers", columns=["email"], max_depth=0) == []


def test_affected_assets_without_spark_pick_the_closest_node_and_say_the_evidence():
    from lineage.graph import impact_rows

    rows = impact_rows.impact(GRAPH, "crm.customers", columns=["email", "id"], include_table=False)
    assert impact_rows.affected_assets(rows) == [
        {"asset": "dash.weekly", "depth": 3, "columns": [], "path": [E0, E1, E2, "dash.weekly"]},
        {
            "asset": "mart.contacts",
            "depth": 2,
            "columns": ["email", "id"],
            "path": ["crm.customers.id", "stg.customers.id", "mart.contacts.id"],
        },
        {"asset": "stg.customers", "depth": 1, "columns": ["email", "id"], "path": [E0, E1]},
    ]
    rows = impact_rows.impact(GRAPH, "crm.customers", columns=["email"])
    evidence = {
        r["asset"]: r["evidence"] for r in impact_rows.affected_assets(rows, "crm.customers")
    }
    assert evidence == {
        "stg.customers": "confirmed",
        "mart.contacts": "confirmed",
        "dash.weekly": "confirmed",
        "etl.export": "possible",
        "files.dump": "possible",
    }


def test_affected_assets_are_ordered_by_kind_owner_depth_asset_nulls_first():
    from lineage.graph import impact_rows

    grouped = [
        {"asset": "b", "depth": 1},
        {"asset": "a", "depth": 2},
        {"asset": "c", "depth": 1},
        {"asset": "d", "depth": 1},
    ]
    assets = [
        {"asset_id": "a", "kind": "table", "owner": "x", "zone": "z"},
        {"asset_id": "b", "kind": "table", "owner": "x", "zone": "z"},
        {"asset_id": "c", "kind": "table", "owner": None, "zone": None},
    ]
    got = impact_rows.with_assets(grouped, assets)
    assert [r["asset"] for r in got] == ["d", "c", "b", "a"]
    assert got[0]["kind"] is None and got[1]["zone"] is None
