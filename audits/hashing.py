"""Hash functions the residual scan can re-apply to a deleted subject's identifier.

A column that holds ``hex(hash(identifier))`` (``sha2(id, 256)`` in Spark,
``to_hex(sha256(to_utf8(id)))`` in Trino, ``md5(id)`` in Hive) cannot be matched with the subject's
pseudonymous key: the raw identifier is never stored. But the raw identifier is known once, when
the deletion request is landed; then the product records, per known function ``f``, the keyed hash
``HMAC(key, f(id))`` (a *match key*, as pseudonymous as the subject key). A hashed column is
scanned by applying the same keyed hash to its (lower-cased) values and joining on the match keys.

The catalog names the function of such a column with ``hash:`` (see docs/configuration.md); the
names are the keys of :data:`HASH_FUNCTIONS`. Each function takes the identifier's text (UTF-8,
as the deletion request gives it) and returns lower-case hex; table values are lower-cased before
the comparison, so upper-case hex (Trino's ``to_hex``) matches too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

HASH_FUNCTIONS: dict[str, Callable[[str], str]] = {
    "md5_hex": lambda v: hashlib.md5(v.encode("utf-8")).hexdigest(),  # noqa: S324 - matching only
    "sha1_hex": lambda v: hashlib.sha1(v.encode("utf-8")).hexdigest(),  # noqa: S324
    "sha224_hex": lambda v: hashlib.sha224(v.encode("utf-8")).hexdigest(),
    "sha256_hex": lambda v: hashlib.sha256(v.encode("utf-8")).hexdigest(),
    "sha384_hex": lambda v: hashlib.sha384(v.encode("utf-8")).hexdigest(),
    "sha512_hex": lambda v: hashlib.sha512(v.encode("utf-8")).hexdigest(),
}
"""Function name -> the function on the identifier's text (lower-case hex digest)."""

HASH_NAMES: tuple[str, ...] = tuple(sorted(HASH_FUNCTIONS))
"""The names the catalog accepts for ``columns[].hash``."""


def apply(name: str, value: str) -> str:
    """``name``'s digest of ``value`` (lower-case hex).

    Example:
        >>> apply("md5_hex", "42")
        'a1d0c6e83f027327d8461063f4ac58a6'
    """
    return HASH_FUNCTIONS[name](value)
