"""Asset names of OpenLineage datasets: symlinks, namespace rules, the default naming.

- A path dataset (a name with ``/``: ``/warehouse/crm/customers``, ``s3://bucket/key``) that
  carries the ``symlinks`` dataset facet is named by its symlink: the first identifier of type
  ``TABLE`` (any type when none says TABLE), with that identifier's namespace.
- A dataset whose namespace starts with a configured prefix (``naming.openlineage_namespaces``,
  longest prefix first) belongs to that prefix's catalog: a two-part name ``schema.table``
  becomes ``catalog.schema.table``; a longer name keeps all its parts; a path stays a path (the
  ``naming.paths`` rules can map it).
- Any other dataset is named by :func:`lineage.signals.common.dataset_asset` (namespace dropped,
  lower case, a dotted name of three or more parts keeps its last two).
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from lineage.naming import NamingRules
from lineage.signals.common import dataset_asset

SYMLINKS = "struct<identifiers: array<struct<namespace: string, name: string, type: string>>>"
"""Parse type of the ``symlinks`` dataset facet (only what the naming reads)."""


def symlink_table(ds: Column) -> Column:
    """The symlink identifier a dataset struct (with ``facets.symlinks``) is named by, or null."""
    ids = F.coalesce(ds["facets"]["symlinks"]["identifiers"], F.array())
    tables = F.filter(ids, lambda i: F.upper(F.trim(i["type"])) == "TABLE")
    named = F.filter(
        F.when(F.size(tables) > 0, tables).otherwise(ids),
        lambda i: F.coalesce(F.trim(i["name"]), F.lit("")) != "",
    )
    return F.when(F.size(named) > 0, named[0])


def ol_asset(namespace: Column, name: Column, rules: NamingRules) -> Column:
    """The asset of the dataset (``namespace``, ``name``) under the namespace rules."""
    n = F.lower(F.trim(name))
    ns = F.lower(F.trim(F.coalesce(namespace, F.lit(""))))
    out = dataset_asset(name)
    two_parts = n.rlike(r"^[^./]+\.[^./]+$")
    for prefix, catalog in reversed(rules.ordered_namespaces()):  # longest prefix wins
        mapped = F.when(two_parts, F.concat(F.lit(catalog.lower() + "."), n)).otherwise(n)
        out = F.when(ns.startswith(prefix.lower()), mapped).otherwise(out)
    return out


def dataset_name(ds: Column, rules: NamingRules) -> Column:
    """The asset of a dataset struct (``namespace``, ``name``, ``facets.symlinks``)."""
    link = symlink_table(ds)
    is_path = F.coalesce(ds["name"].contains("/"), F.lit(False))
    use_link = is_path & link.isNotNull()
    return F.when(use_link, ol_asset(link["namespace"], link["name"], rules)).otherwise(
        ol_asset(ds["namespace"], ds["name"], rules)
    )
