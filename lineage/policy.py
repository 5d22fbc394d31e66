"""Policy zones: flows of a data category into a zone it is not allowed in, and new flows.

Policies are plain Python (as read from ``conf/policies.yaml`` by the job)::

    [{"name": "religion-stays-in-dating",
      "data_categories": ["user.demographic.religious_belief"],
      "allowed_zones": ["dating", "safety"]}]

A category matches a policy when one of the policy's dotted prefixes covers it by whole segments,
ignoring case (:mod:`core.categories`: ``user.contact`` matches ``user.contact.email``, not
``user.contacts``).
A flow (a closure row whose source carries a matching category) violates the policy when the zone
of the reached node is not among ``allowed_zones``. The zone of a node is its own zone if listed,
else its asset's (:func:`lineage.graph.nodes.with_zone`); a node without any zone violates by
default (``unzoned="violation"``: an unknown destination is not an allowed one) or is skipped
(``unzoned="ignore"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from core.categories import covers, normalise
from core.errors import ComplianceError

if TYPE_CHECKING:  # Spark is imported by the two DataFrame rules only: a policy loads without it
    from pyspark.sql import DataFrame

VIOLATION_COLUMNS = (
    "policy",
    "data_category",
    "source",
    "node",
    "zone",
    "depth",
    "confidence",
    "path",
)


class PolicyError(ComplianceError):
    """A policy definition is malformed (missing name, no categories, wrong types)."""


@dataclass(frozen=True)
class Policy:
    """One policy zone: data of these categories may only flow into these zones.

    The one model of a policy: ``conf/policies.yaml`` is validated into it once per run
    (:mod:`jobs.config.catalog`) and the rules below take it as it is.

    Attributes:
        name: unique policy name, used in reports and alerts.
        data_categories: dotted category prefixes the policy protects.
        allowed_zones: zones the protected data may flow into.
        description: free text.
    """

    name: str
    data_categories: tuple[str, ...]
    allowed_zones: tuple[str, ...]
    description: str = ""

    def covers(self, category: str | None) -> bool:
        """True when one of the policy's prefixes covers ``category`` (:mod:`core.categories`)."""
        return any(covers(p, category) for p in self.data_categories)


def parse_policies(policies: Iterable[Mapping[str, object] | Policy]) -> list[Policy]:
    """Validate plain policy mappings into :class:`Policy` records.

    Raises:
        PolicyError: naming the policy and the key at fault.
    """
    parsed: list[Policy] = []
    for i, raw in enumerate(policies):
        if isinstance(raw, Policy):
            parsed.append(raw)
            continue
        if not isinstance(raw, Mapping):
            raise PolicyError(f"policy #{i + 1} must be a mapping, got {type(raw).__name__}")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise PolicyError(f"policy #{i + 1} needs a non-empty 'name'")
        cats = _strings(raw.get("data_categories"), name, "data_categories")
        if not cats:
            raise PolicyError(f"policy {name!r}: 'data_categories' must list at least one category")
        zones = _strings(raw.get("allowed_zones", []), name, "allowed_zones")
        parsed.append(
            Policy(name.strip(), tuple(c.strip().rstrip(".") for c in cats), tuple(zones))
        )
    names = [p.name for p in parsed]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise PolicyError(f"policy names must be unique; repeated: {', '.join(dupes)}")
    return parsed


def _strings(value: object, policy: str, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise PolicyError(f"policy {policy!r}: {key!r} must be a list of strings")
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise PolicyError(f"policy {policy!r}: {key!r} must hold non-empty strings only")
    return [v.strip() for v in value]


def policy_violations(
    closure_with_categories: DataFrame,
    node_zones: DataFrame,
    policies: Iterable[Mapping[str, object] | Policy],
    *,
    unzoned: Literal["violation", "ignore"] = "violation",
) -> DataFrame:
    """Every flow of a protected category into a zone its policy does not allow.

    Args:
        closure_with_categories: closure rows ``[source, node, data_category]`` plus optionally
            ``depth``, ``confidence``, ``path`` (the caller joins the source's category).
        node_zones: ``[asset, zone]``.
        policies: policy mappings or :class:`Policy` records.
        unzoned: whether a node without a zone is a violation or is skipped.

    Returns:
        ``[policy, data_category, source, node, zone, depth, confidence, path]``, one row per
        (policy, source, data_category, node).
    """
    from pyspark.sql import functions as F

    from lineage.graph.nodes import with_zone

    if unzoned not in ("violation", "ignore"):
        raise PolicyError(f"unzoned must be 'violation' or 'ignore', got {unzoned!r}")
    spark = closure_with_categories.sparkSession
    rules = spark.createDataFrame(
        [
            (p.name, normalise(prefix), list(p.allowed_zones))
            for p in parse_policies(policies)
            for prefix in p.data_categories
        ],
        "policy string, _prefix string, _allowed array<string>",
    )
    cols = closure_with_categories.columns
    flows = closure_with_categories.select(
        "source",
        "node",
        "data_category",
        (F.col("depth") if "depth" in cols else F.lit(None)).cast("int").alias("depth"),
        (F.col("confidence") if "confidence" in cols else F.lit(None))
        .cast("double")
        .alias("confidence"),
        (F.col("path") if "path" in cols else F.lit(None)).cast("array<string>").alias("path"),
    ).where(F.col("data_category").isNotNull())
    parts = F.split(F.lower(F.trim(F.col("data_category"))), r"\.")
    prefixes = F.transform(
        F.sequence(F.lit(1), F.size(parts)), lambda i: F.array_join(F.slice(parts, 1, i), ".")
    )
    matched = flows.withColumn("_prefix", F.explode(prefixes)).join(F.broadcast(rules), "_prefix")
    zoned = with_zone(matched, "node", node_zones)
    outside = ~F.coalesce(F.array_contains("_allowed", F.col("zone")), F.lit(False))
    if unzoned == "ignore":
        outside = outside & F.col("zone").isNotNull()
    return (
        zoned.where(outside)
        .dropDuplicates(["policy", "source", "data_category", "node"])
        .select(*VIOLATION_COLUMNS)
    )


def new_flows(
    tonight: DataFrame, previous: DataFrame, *, keys: Sequence[str] = ("source", "node")
) -> DataFrame:
    """The flows of tonight's closure that were not in the previous night's.

    Args:
        tonight: tonight's closure rows (all columns are kept).
        previous: the previous night's closure rows (only ``keys`` are used). On the first night
            the caller decides: an empty ``previous`` makes every flow new.
        keys: the columns that identify a flow (compared null-safely, so table-level flows
            with a null column match).

    Returns:
        The rows of ``tonight`` whose keys are absent from ``previous``.
    """
    from pyspark.sql import functions as F

    missing = [k for k in keys if k not in tonight.columns or k not in previous.columns]
    if missing:
        raise PolicyError(f"new_flows: key columns missing from a closure: {', '.join(missing)}")
    seen = previous.select(*[F.col(k).alias(f"_prev_{k}") for k in keys]).distinct()
    same = [F.col(k).eqNullSafe(F.col(f"_prev_{k}")) for k in keys]
    cond = same[0]
    for extra in same[1:]:
        cond = cond & extra
    return tonight.join(seen, cond, "left_anti").select(*tonight.columns)
