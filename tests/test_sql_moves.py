"""Schema events of DDL and the rejections of malformed data-moving statements.

Edges of these statements are in ``tests/fixtures/lineage/moves.sql``; here the parts a fixture
cannot show: the ``schema_events`` and ``declared_columns`` of a text, and bad input.
"""

from __future__ import annotations

import pytest

from lineage.sql.extract import SchemaEvent, SqlLineageError, extract_lineage


def test_ddl_statements_are_reported_as_schema_events_in_order() -> None:
    sql = """
        CREATE TABLE crm.customers (id INT, email STRING);
        ALTER TABLE crm.customers ADD COLUMNS (phone STRING);
        ALTER TABLE crm.customers RENAME COLUMN email TO email_address;
        ALTER TABLE crm.customers DROP COLUMN phone;
        ALTER TABLE crm.customers RENAME TO customers_v2;
        DROP TABLE crm.old_customers
    """
    result = extract_lineage(sql, dialect="spark")
    assert result.schema_events == [
        SchemaEvent("create_table", "crm.customers"),
        SchemaEvent("add_column", "crm.customers", "phone", "TEXT"),  # sqlglot's spelling
        SchemaEvent("rename_column", "crm.customers", "email", "email_address"),
        SchemaEvent("drop_column", "crm.customers", "phone"),
        SchemaEvent("rename_table", "crm.customers", detail="crm.customers_v2"),
        SchemaEvent("drop_table", "crm.old_customers"),
    ]
    # the columns follow the changes: the renamed table holds id, email_address
    assert result.declared_columns["crm.customers_v2"] == ("id", "email_address")
    edges = {(e.source, e.target) for e in result.column_edges}
    assert edges == {
        ("crm.customers.email", "crm.customers.email_address"),
        ("crm.customers.id", "crm.customers_v2.id"),
        ("crm.customers.email_address", "crm.customers_v2.email_address"),
    }


def test_create_like_and_clone_declare_the_source_columns() -> None:
    schema = {"sales.orders": ["id", "amount"]}
    result = extract_lineage(
        "CREATE TABLE sales.orders_empty LIKE sales.orders;"
        " CREATE TABLE sales.orders_bak CLONE sales.orders",
        dialect="snowflake",
        schema=schema,
    )
    assert result.declared_columns == {
        "sales.orders_empty": ("id", "amount"),
        "sales.orders_bak": ("id", "amount"),
    }
    assert result.schema_events == [
        SchemaEvent("create_table", "sales.orders_empty"),
        SchemaEvent("create_table", "sales.orders_bak"),
    ]
    # LIKE copies no data: only the clone is a target
    assert result.targets == {"sales.orders_bak"}


def test_temporary_view_drop_is_not_a_schema_event() -> None:
    result = extract_lineage("CREATE TEMP VIEW v AS SELECT a FROM s; DROP VIEW v", dialect="spark")
    assert result.schema_events == []


def test_unload_whose_query_is_not_sql_is_rejected_with_dialect_and_position() -> None:
    with pytest.raises(SqlLineageError) as info:
        extract_lineage(
            "UNLOAD ('SELECT a FROM WHERE (') TO 's3://b/p' IAM_ROLE 'r'", dialect="redshift"
        )
    err = info.value
    assert err.reason.startswith("UNLOAD query: ")
    assert err.dialect == "redshift" and err.line == 1 and err.col is not None


def test_unload_without_a_location_is_rejected() -> None:
    with pytest.raises(SqlLineageError) as info:
        extract_lineage("UNLOAD something odd", dialect="redshift")
    assert info.value.kind == "unsupported" and "UNLOAD" in info.value.reason


def test_spark_directory_export_without_a_path_is_rejected() -> None:
    with pytest.raises(SqlLineageError) as info:
        extract_lineage("INSERT OVERWRITE DIRECTORY USING csv SELECT a FROM s", dialect="spark")
    assert info.value.kind == "unsupported" and info.value.dialect == "spark"
    assert "without a path" in info.value.reason


def test_external_query_whose_inner_string_is_not_sql_is_rejected_with_position() -> None:
    with pytest.raises(SqlLineageError) as info:
        extract_lineage(
            "INSERT INTO ds.t (a) SELECT * FROM EXTERNAL_QUERY('c.us.db', 'SELECT a FROM (((')",
            dialect="bigquery",
        )
    err = info.value
    assert err.reason.startswith("EXTERNAL_QUERY query is not postgres SQL: ")
    assert err.dialect == "bigquery" and err.line == 1 and err.col is not None


def test_external_query_that_is_not_a_select_is_rejected() -> None:
    with pytest.raises(SqlLineageError) as info:
        extract_lineage(
            "SELECT * FROM EXTERNAL_QUERY('c.us.db', 'DELETE FROM users')", dialect="bigquery"
        )
    assert info.value.reason == "EXTERNAL_QUERY query is not one SELECT"


def test_learned_schema_uses_the_known_columns_for_like_clone_and_star() -> None:
    from lineage.sql.batch import learned_schema

    catalog = {"crm.customers": ["id", "email"]}
    sql = (
        "CREATE TABLE crm.c_like LIKE crm.customers;"
        " CREATE TABLE crm.c_clone CLONE crm.customers;"
        " CREATE TABLE crm.c_ctas AS SELECT * FROM crm.customers"
    )
    assert learned_schema(sql, "snowflake", schema=catalog) == {
        "crm.c_like": ["id", "email"],
        "crm.c_clone": ["id", "email"],
        "crm.c_ctas": ["id", "email"],
    }
