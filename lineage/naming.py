"""One identity per table across signals: the canonical name of a table, by configured rules.

The same table reaches the product under several names: ``postgres.public.customers`` from SQL,
``public.customers`` in the OpenLineage namespace ``postgres://db:5432`` from dbt-ol, the path
``/warehouse/public/customers`` from Spark, ``marquez.public.customers`` from Trino. The rules of
:class:`NamingRules` (the ``naming`` section of the settings) turn each into one canonical name:

1. OpenLineage only (:func:`lineage.signals.openlineage_naming.ol_asset`): a dataset whose
   ``namespace`` starts with a configured prefix gets that prefix's catalog
   (``postgres://db:5432`` -> ``postgres``): a two-part name is prefixed with it, a name of three
   parts or more keeps all its parts. Without a matching rule the dataset is named as before
   (namespace dropped, a dotted name of three or more parts keeps its last two).
2. Every signal, on every observation (:func:`canonical_asset`), in this order: the name is
   trimmed and lower-cased; the first ``paths`` rule whose pattern (a Java regular expression)
   matches the whole name rewrites it with its template (``$1`` = first group); then the first
   part of a name of three or more parts is looked up in ``catalogs`` (an alias -> its catalog;
   the empty string drops the catalog).

With no rule configured, :func:`canonical_asset` is not applied at all: names are what each
signal gives, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the rules load with the configuration, before (and without) Spark
    from pyspark.sql import Column, DataFrame


@dataclass(frozen=True)
class NamingRules:
    """The configured name mapping rules (all empty by default)."""

    namespaces: tuple[tuple[str, str], ...] = ()
    """(OpenLineage namespace prefix, catalog), longest prefix first."""
    catalogs: tuple[tuple[str, str], ...] = ()
    """(catalog as written, canonical catalog or ``""`` to drop it)."""
    paths: tuple[tuple[str, str], ...] = ()
    """(Java regex matching a whole name, replacement template with ``$1``...), first match wins."""

    @property
    def empty(self) -> bool:
        """No rule at all: every name stays as its signal gives it."""
        return not (self.namespaces or self.catalogs or self.paths)

    def ordered_namespaces(self) -> tuple[tuple[str, str], ...]:
        """Namespace rules, longest prefix first (the most specific wins)."""
        return tuple(sorted(self.namespaces, key=lambda r: -len(r[0])))


NO_RULES = NamingRules()


def canonical_asset(name: Column, rules: NamingRules) -> Column:
    """Spark column: the canonical name of the asset ``name`` under ``rules`` (null stays null).

    Example: with ``paths = (("^/tmp/x/([^/]+)$", "postgres.public.$1"),)`` and
    ``catalogs = (("marquez", "postgres"),)``: ``/tmp/x/customers`` and
    ``Marquez.Public.Customers`` both become ``postgres.public.customers``.
    """
    from pyspark.sql import functions as F

    n = F.lower(F.trim(name))
    out = n
    for pattern, template in reversed(rules.paths):  # the first rule is applied last = wins
        out = F.when(n.rlike(pattern), F.regexp_replace(n, pattern, template)).otherwise(out)
    if rules.catalogs:
        first = F.regexp_extract(out, r"^([^.]*)\.", 1)
        rest = F.regexp_extract(out, r"^[^.]*\.(.*)$", 1)
        many = out.rlike(r"^[^/]*\.[^/]*\.[^/]*$")
        mapped = out
        for alias, catalog in reversed(rules.catalogs):
            target = rest if catalog == "" else F.concat(F.lit(catalog.lower() + "."), rest)
            mapped = F.when(many & (first == F.lit(alias.lower())), target).otherwise(mapped)
        out = mapped
    return F.when(name.isNotNull(), out)


def canonical_observations(obs: DataFrame, rules: NamingRules) -> DataFrame:
    """Observations with both ends renamed to their canonical names (unchanged without rules)."""
    from pyspark.sql import functions as F

    if rules.empty:
        return obs
    return obs.withColumn("source_asset", canonical_asset(F.col("source_asset"), rules)).withColumn(
        "target_asset", canonical_asset(F.col("target_asset"), rules)
    )
