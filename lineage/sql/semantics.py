"""Lineage sets and the OpenLineage transformation semantics used by the scope walker.

A *lineage set* maps ``(table, column, kind)`` to ``(rank, masking, confidence)``: ``kind`` is
``"D"`` for a DIRECT edge, whose ``rank`` is 0 IDENTITY, 1 TRANSFORMATION or 2 AGGREGATION, or an
INDIRECT subtype (``"CONDITIONAL"``, ``"WINDOW"``, ``"FILTER"``, ...). :func:`add` merges parallel
paths, :func:`compose` adds a set seen through a context (a function, an aggregate, a condition).
The expression classes that matter (hashes and counts mask, offset window functions copy, a few
nodes are transparent) are listed here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

D = "D"
RANKS = ("IDENTITY", "TRANSFORMATION", "AGGREGATION")

Key = tuple[str, str, str]
Lin = dict[Key, tuple[int, bool, float]]

LEAF = frozenset(
    {
        exp.Literal,
        exp.Null,
        exp.Boolean,
        exp.Star,
        exp.Identifier,
        exp.DataType,
        exp.Var,
        exp.Placeholder,
        exp.Parameter,
    }
)
TRANSPARENT = frozenset({exp.Alias, exp.Paren, exp.Subquery, exp.Ordered, exp.Order, exp.Group})
MASK_AGG = frozenset(
    getattr(exp, n)
    for n in ("Count", "ApproxDistinct", "CountIf", "Hll", "HashAgg", "BitmapCount")
    if hasattr(exp, n)
)
# offset window functions copy a value from another row: TRANSFORMATION, not AGGREGATION
NAVIGATION = frozenset(getattr(exp, n) for n in ("Lag", "Lead") if hasattr(exp, n))
HASH = frozenset(
    getattr(exp, n)
    for n in (
        "MD5",
        "MD5Digest",
        "MD5NumberLower64",
        "MD5NumberUpper64",
        "SHA",
        "SHA1Digest",
        "SHA2",
        "SHA2Digest",
        "StandardHash",
        "FarmFingerprint",
        "CityHash64",
        "Minhash",
    )
    if hasattr(exp, n)
)
HASH_NAMES = frozenset(
    {
        "hash",
        "xxhash64",
        "xxhash",
        "xxhash32",
        "murmur3_hash",
        "murmur3",
        "murmur3_32",
        "murmur3_64",
        "murmur3_128",
        "crc32",
        "sha256",
        "sha512",
        "sha224",
        "sha384",
        "sha1",
        "md5",
        "hmac_sha256",
        "hmac_sha512",
        "hmac_sha1",
        "hmac_md5",
        "spooky_hash_v2_32",
        "spooky_hash_v2_64",
        "fnv",
        "xxh3_64",
        "cityhash64",
        "sipHash64".lower(),
        "approx_set",
        "hll_sketch_agg",
        "mask",
        "mask_hash",
    }
)


def add(acc: Lin, key: Key, rank: int, mask: bool, conf: float) -> None:
    """Merge one parallel path into a lineage set (strongest rank, AND masking, best confidence)."""
    old = acc.get(key)
    if old is None:
        acc[key] = (rank, mask, conf)
    else:
        acc[key] = (
            max(old[0], rank),
            old[1] and mask,
            max(old[2], conf),
        )


def compose(acc: Lin, inner: Lin, rank: int, mask: bool, ind: str | None, conf: float) -> None:
    """Add ``inner`` seen through a context (rank, masking, indirect subtype, confidence)."""
    for (t, c, k), (r, m, cf) in inner.items():
        if ind is not None:
            add(acc, (t, c, ind), 0, False, cf * conf)
        elif k == D:
            add(acc, (t, c, D), max(rank, r), m or mask, cf * conf)
        else:
            add(acc, (t, c, k), 0, False, cf * conf)


def merge(acc: Lin, other: Lin) -> None:
    """Merge a lineage set as a parallel path."""
    for key, (r, m, cf) in other.items():
        add(acc, key, r, m, cf)


@dataclass
class ScopeLineage:
    """The lineage of one scope's output.

    Attributes:
        outputs: Ordered (output column, lineage set) pairs; an unexpanded star is named ``*``.
        dataset: INDIRECT edges into the whole output (JOIN, FILTER, GROUP_BY, SORT, ...).
        star: Lineage of an unexpanded ``*`` whose ``*`` column stands for any column name.
        fallback: Lineage of any column not among the outputs (table functions without aliases).
    """

    outputs: list[tuple[str, Lin]] = field(default_factory=list)
    dataset: Lin = field(default_factory=dict)
    star: Lin | None = None
    fallback: Lin | None = None
    by_name: dict[str, Lin] = field(default_factory=dict)

    def finish(self) -> ScopeLineage:
        """Index the outputs by name (first occurrence wins) and return self."""
        by_name: dict[str, Lin] = {}
        for name, lin in self.outputs:
            by_name.setdefault(name, lin)
        self.by_name = by_name
        return self

    def column(self, name: str) -> Lin | None:
        """The lineage of one output column by name, resolving stars and fallbacks."""
        lin = self.by_name.get(name)
        if lin is not None:
            return lin
        if self.star:
            return {(t, name if c == "*" else c, k): v for (t, c, k), v in self.star.items()}
        return self.fallback
