"""One pass over the scopes of a qualified query: the column lineage of every scope's outputs.

Each scope (the root SELECT, CTEs, derived tables, subqueries, set operations, UNNEST / LATERAL
VIEW table functions) is evaluated once, memoised, from its children. The result of a scope is a
:class:`ScopeLineage`: for every output column a *lineage set* mapping ``(table, column, kind)`` to
``(rank, masking, confidence)``, where ``kind`` is ``"D"`` for a DIRECT edge (``rank`` 0 IDENTITY,
1 TRANSFORMATION, 2 AGGREGATION) or the INDIRECT subtype (``"CONDITIONAL"``, ``"WINDOW"``), plus
one set for the INDIRECT edges that influence the whole output (JOIN, FILTER, GROUP_BY, SORT).

Semantics follow OpenLineage's column-lineage facet:

- a bare column is IDENTITY, and so is a struct field read from it (``t.addr.city``, a
  Snowflake variant path ``v:customer.email``): the edge comes from the field, named by its path
  (``addr.city``), not from the whole struct; any other function, operator, cast, subscript or a
  CASE/IF result value (the output is one of several inputs, not a copy of one) is
  TRANSFORMATION; an aggregate function is AGGREGATION; hashes and counts set ``masking``;
- CASE/IF conditions are INDIRECT CONDITIONAL and window PARTITION BY / ORDER BY are INDIRECT
  WINDOW, both on the output column they feed;
- WHERE / HAVING / QUALIFY (FILTER), JOIN ON / USING (JOIN), GROUP BY (GROUP_BY) and ORDER BY
  (SORT) are INDIRECT edges into the whole output, and a derived table passes its own up;
- composing through a derived column keeps the strongest DIRECT rank and ORs masking along the
  path; parallel paths to the same source keep the strongest rank, AND their masking (data that
  also flows unmasked is not masked) and the best confidence; a column seen in an INDIRECT
  position turns everything upstream of it into that INDIRECT subtype;
- an unqualified column that sqlglot could not resolve goes to the sources a schema says have
  it; failing that to a lateral column alias of the same SELECT; failing that to every source
  no schema decides on, with confidence ``1 / candidates`` (a join without schema); when every
  schema says no, to an enclosing query's sources (correlation), else, over a join, nowhere.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from lineage.sql.semantics import (
    HASH,
    HASH_NAMES,
    LEAF,
    MASK_AGG,
    NAVIGATION,
    TRANSPARENT,
    D,
    Lin,
    ScopeLineage,
    add,
    compose,
    merge,
)


class _Env:
    __slots__ = ("aliases", "dataset", "lateral", "scope", "selected", "subq")

    def __init__(self, scope: Scope, dataset: Lin) -> None:
        self.scope = scope
        self.subq = {id(s.expression): s for s in scope.subquery_scopes}
        self.dataset = dataset
        self.aliases: dict[str, Lin] | None = None
        self.lateral: dict[str, Lin] | None = None
        self.selected = [src for _, src in scope.selected_sources.values()]


class Walker:
    """Evaluates scopes of one qualified statement.

    Args:
        names: Placeholder table name (lower case) -> canonical table name.
        temps: Canonical name -> lineage of a temporary view/table created earlier in the script.
        columns: Canonical name -> known column names (schema), used to pick join candidates.
    """

    def __init__(
        self,
        names: dict[str, str],
        temps: dict[str, ScopeLineage],
        columns: dict[str, set[str]],
    ) -> None:
        self.names = names
        self.temps = temps
        self.columns = columns
        self.memo: dict[int, ScopeLineage] = {}

    # -- scopes ---------------------------------------------------------------------------------

    def run(self, root: Scope) -> ScopeLineage:
        """Evaluate every scope bottom-up (post-order), so recursion stays shallow."""
        for scope in root.traverse():
            # scopes of a recursive CTE are evaluated top-down, so the self-reference is the one
            # that sees an empty (in-progress) result
            with_ = scope.expression.find_ancestor(exp.With)
            if with_ is None or not with_.args.get("recursive"):
                self.lineage(scope)
        return self.lineage(root)

    def lineage(self, scope: Scope) -> ScopeLineage:
        """The memoised lineage of a scope (a recursive reference sees an empty result)."""
        hit = self.memo.get(id(scope))
        if hit is not None:
            return hit
        self.memo[id(scope)] = ScopeLineage()
        node = scope.expression
        if isinstance(node, exp.Select):
            result = self._select(scope)
        elif isinstance(node, exp.SetOperation) and scope.set_operation_scopes:
            result = self._setop(scope)
        elif isinstance(node, (exp.Unnest, exp.Lateral)):
            result = self._udtf(scope)
        else:
            result = self._opaque(node)
        self.memo[id(scope)] = result.finish()
        return result

    def _select(self, scope: Scope) -> ScopeLineage:
        sel = scope.expression
        res = ScopeLineage()
        env = _Env(scope, res.dataset)
        outputs = res.outputs
        env.lateral = {}
        for proj in sel.expressions:
            if isinstance(proj, exp.Star) or (
                isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star)
            ):
                self._star(env, proj, res)
                continue
            acc: Lin = {}
            self.walk(proj, env, acc, 0, False, None)
            outputs.append((proj.alias_or_name.lower(), acc))
            if isinstance(proj, exp.Alias):
                env.lateral.setdefault(proj.alias.lower(), acc)
        env.lateral = None
        env.aliases = {n: lin for n, lin in outputs}
        args = sel.args
        where = args.get("where")
        if where is not None:
            self.walk(where.this, env, res.dataset, 0, False, "FILTER")
        for join in args.get("joins") or ():
            on = join.args.get("on")
            if on is not None:
                self.walk(on, env, res.dataset, 0, False, "JOIN")
            for ident in join.args.get("using") or ():
                self._using(env, join, ident.name.lower())
        for clause, subtype in (
            ("group", "GROUP_BY"),
            ("having", "FILTER"),
            ("qualify", "FILTER"),
            ("order", "SORT"),
        ):
            node = args.get(clause)
            if node is not None:
                self.walk(node, env, res.dataset, 0, False, subtype)
        for src in env.selected:
            if isinstance(src, Scope):
                merge(res.dataset, self.lineage(src).dataset)
            elif isinstance(src, exp.Table):
                temp = self.temps.get(self._canonical(src) or "")
                if temp is not None:
                    merge(res.dataset, temp.dataset)
        return res

    def _star(self, env: _Env, proj: exp.Expr, res: ScopeLineage) -> None:
        if isinstance(proj, exp.Column) and proj.table:
            found = self._find(env.scope, proj.table)
            sources = [found] if found is not None else []
        else:
            sources = env.selected
        star: Lin = {}
        for src in sources:
            inner = self.lineage(src) if isinstance(src, Scope) else None
            if isinstance(src, exp.Table):
                canon = self._canonical(src)
                if canon is None:
                    continue
                inner = self.temps.get(canon)
                if inner is None:
                    add(star, (canon, "*", D), 0, False, 1.0)
                    continue
            if inner is not None:
                res.outputs.extend((n, dict(lin)) for n, lin in inner.outputs if n != "*")
                if inner.star:
                    merge(star, inner.star)
        if star:
            res.outputs.append(("*", star))
            res.star = star

    def _setop(self, scope: Scope) -> ScopeLineage:
        res = ScopeLineage()
        for i, branch in enumerate(scope.set_operation_scopes):
            sub = self.lineage(branch)
            merge(res.dataset, sub.dataset)
            if sub.star:
                res.star = res.star or {}
                merge(res.star, sub.star)
            for pos, (name, lin) in enumerate(sub.outputs):
                if pos < len(res.outputs):
                    merge(res.outputs[pos][1], lin)
                elif i == 0 or name == "*":
                    res.outputs.append((name, dict(lin)))
        return res

    def _udtf(self, scope: Scope) -> ScopeLineage:
        node = scope.expression
        res = ScopeLineage()
        env = _Env(scope, res.dataset)
        args = node.expressions if isinstance(node, exp.Unnest) else [node.this]
        lins = []
        for arg in args:
            acc: Lin = {}
            self.walk(arg, env, acc, 1, False, None)
            lins.append(acc)
        union: Lin = {}
        for lin in lins:
            merge(union, lin)
        alias = node.args.get("alias")
        cols = [c.name.lower() for c in alias.columns] if alias is not None else []
        if isinstance(node, exp.Unnest) and len(lins) > 1 and len(cols) >= len(lins):
            res.outputs = [
                (c, dict(lins[i] if i < len(lins) else union)) for i, c in enumerate(cols)
            ]
        elif cols:
            res.outputs = [(c, dict(union)) for c in cols]
        elif alias is not None and alias.name and isinstance(node, exp.Unnest):
            res.outputs = [(alias.name.lower(), dict(union))]
        offset = node.args.get("offset") if isinstance(node, exp.Unnest) else None
        if isinstance(offset, exp.Identifier):  # WITH ORDINALITY / WITH OFFSET column
            res.outputs.append((offset.name.lower(), dict(union)))
        if not cols:
            res.fallback = union
        return res

    @staticmethod
    def _opaque(node: exp.Expr) -> ScopeLineage:
        alias = node.args.get("alias")
        cols = alias.columns if isinstance(alias, exp.TableAlias) else []
        return ScopeLineage(outputs=[(c.name.lower(), {}) for c in cols])

    # -- expressions ----------------------------------------------------------------------------

    def walk(
        self, node: exp.Expr, env: _Env, acc: Lin, rank: int, mask: bool, ind: str | None
    ) -> None:
        """Add the lineage of an expression, seen in the given context, to ``acc``."""
        t = type(node)
        if t is exp.Column:
            self._column(node, env, acc, rank, mask, ind)
            return
        if t in LEAF:
            return
        sub = env.subq.get(id(node))
        if sub is not None:
            self._subquery(sub, env, acc, rank, mask, ind)
            return
        if t in TRANSPARENT:
            for child in node.iter_expressions():
                self.walk(child, env, acc, rank, mask, ind)
            return
        if t is exp.Dot or (t is exp.JSONExtract and node.args.get("variant_extract")):
            column, path = _field_access(node)
            if column is not None:
                self._column(column, env, acc, rank, mask, ind, path)
                return
        if t is exp.Window:
            self.walk(node.this, env, acc, rank, mask, ind)
            self._window_spec(node, env, acc, ind or "WINDOW", 0)
            return
        r1 = max(1, rank)
        if t is exp.Case:
            cond = ind or "CONDITIONAL"
            operand = node.this
            if operand is not None:
                self.walk(operand, env, acc, 0, False, cond)
            for branch in node.args.get("ifs") or ():
                self.walk(branch.this, env, acc, 0, False, cond)
                value = branch.args.get("true")
                if value is not None:
                    self.walk(value, env, acc, r1, mask, ind)
            default = node.args.get("default")
            if default is not None:
                self.walk(default, env, acc, r1, mask, ind)
            return
        if t is exp.If:
            self.walk(node.this, env, acc, 0, False, ind or "CONDITIONAL")
            for key in ("true", "false"):
                value = node.args.get(key)
                if value is not None:
                    self.walk(value, env, acc, r1, mask, ind)
            return
        if t is exp.Filter:
            self.walk(node.this, env, acc, rank, mask, ind)
            self.walk(node.expression, env, acc, 0, False, ind or "CONDITIONAL")
            return
        if isinstance(node, exp.AggFunc) and t not in NAVIGATION:
            rank, mask = 2, mask or t in MASK_AGG
        elif t in HASH or (t is exp.Anonymous and node.name.lower() in HASH_NAMES):
            rank, mask = r1, True
        else:
            rank = r1
        # a long AND / OR / + chain is flattened instead of recursed into
        children = node.flatten() if isinstance(node, exp.Binary) else node.iter_expressions()
        for child in children:
            self.walk(child, env, acc, rank, mask, ind)

    def _window_spec(self, node: exp.Window, env: _Env, acc: Lin, ind: str, depth: int) -> None:
        for part in node.args.get("partition_by") or ():
            self.walk(part, env, acc, 0, False, ind)
        order = node.args.get("order")
        if order is not None:
            self.walk(order, env, acc, 0, False, ind)
        alias = node.args.get("alias")  # OVER w, or a named window based on another one
        name = alias.name if isinstance(alias, exp.Identifier) else None
        if name and depth < 8 and isinstance(env.scope.expression, exp.Select):
            for named in env.scope.expression.args.get("windows") or ():
                same = isinstance(named.this, exp.Identifier) and named.this.name == name
                if same and named is not node:
                    self._window_spec(named, env, acc, ind, depth + 1)

    def _subquery(
        self, sub: Scope, env: _Env, acc: Lin, rank: int, mask: bool, ind: str | None
    ) -> None:
        sl = self.lineage(sub)
        outputs = sl.outputs if ind is not None else sl.outputs[:1]
        for _, lin in outputs:
            compose(acc, lin, rank, mask, ind, 1.0)
        merge(env.dataset, sl.dataset)

    def _column(
        self,
        col: exp.Column,
        env: _Env,
        acc: Lin,
        rank: int,
        mask: bool,
        ind: str | None,
        path: str = "",
    ) -> None:
        """Add a column reference; ``path`` is a struct field path read from it (``a.b``)."""
        if isinstance(col.this, exp.Star):
            return
        name = col.name.lower()
        table = col.table
        if table:
            src = self._find(env.scope, table)
            if src is not None:
                self._emit(src, name, acc, rank, mask, ind, 1.0, path)
                return
            db = col.args.get("db")
            catalog = col.args.get("catalog")
            # the parts before the column name that are not a source are struct fields:
            # alias.struct.field, alias.struct.field.subfield, struct.field (unqualified)
            parts = [p.name.lower() for p in (catalog, db) if p is not None] + [table.lower()]
            for i in range(len(parts) - 1, 0, -1):
                src = self._find(env.scope, parts[i - 1])
                if src is not None:
                    field = _field(*parts[i + 1 :], name, path)
                    self._emit(src, parts[i], acc, rank, mask, ind, 1.0, field)
                    return
            name, path = parts[0], _field(*parts[1:], name, path)
        elif env.aliases is not None and name in env.aliases:
            compose(acc, _of_field(env.aliases[name], path), rank, mask, ind, 1.0)
            return
        scope: Scope | None = env.scope
        cands: list = env.selected
        while not cands and scope is not None and scope.parent is not None:
            scope = scope.parent
            cands = [src for _, src in scope.selected_sources.values()]
        has = [self._has_column(s, name) for s in cands]
        if True in has:
            cands = [s for s, h in zip(cands, has, strict=False) if h is True]
        elif env.lateral and name in env.lateral and _lateral(env.lateral[name], name):
            # a lateral column alias (Spark, Databricks, Snowflake, Redshift, Teradata) when
            # no source is known to have the column
            compose(acc, _of_field(env.lateral[name], path), rank, mask, ind, 1.0)
            return
        elif None in has:
            cands = [s for s, h in zip(cands, has, strict=False) if h is None]
        elif cands:
            # every schema says no: a correlated reference to an outer query, or, for a single
            # source, a column its (stale) schema misses; over a join, no edge from any of them
            outer = self._outer(scope, name)
            if outer:
                cands = outer
            elif len(cands) > 1:
                return
        conf = 1.0 / len(cands) if cands else 1.0
        for src in cands:
            self._emit(src, name, acc, rank, mask, ind, conf, path)

    def _outer(self, scope: Scope | None, name: str) -> list:
        """Sources of enclosing queries that have (or may have) a column."""
        while scope is not None and scope.parent is not None:
            scope = scope.parent
            cands = [src for _, src in scope.selected_sources.values()]
            has = [self._has_column(s, name) for s in cands]
            for want in (True, None):
                found = [s for s, h in zip(cands, has, strict=False) if h is want]
                if found:
                    return found
        return []

    def _using(self, env: _Env, join: exp.Join, name: str) -> None:
        right = self._find(env.scope, join.this.alias_or_name)
        cands = [s for s in env.selected if s is right or self._has_column(s, name) is not False]
        for src in cands:
            self._emit(src, name, env.dataset, 0, False, "JOIN", 1.0)

    # -- sources --------------------------------------------------------------------------------

    @staticmethod
    def _find(scope: Scope | None, table: str):
        while scope is not None:
            src = scope.sources.get(table)
            if src is not None:
                return src
            scope = scope.parent
        return None

    def _canonical(self, table: exp.Table) -> str | None:
        """The canonical name of a renamed physical table; None for a table function."""
        return self.names.get(table.name.lower())

    def _has_column(self, src, name: str) -> bool | None:
        if isinstance(src, Scope):
            sl = self.lineage(src)
            if name in sl.by_name:
                return True
            return None if (sl.star or sl.fallback) else False
        if isinstance(src, exp.Table):
            canon = self._canonical(src)
            if canon is None:
                return False
            temp = self.temps.get(canon)
            if temp is not None:
                return True if name in temp.by_name else (None if temp.star else False)
            cols = self.columns.get(canon)
            return None if cols is None else name in cols
        return None

    def _emit(
        self,
        src,
        name: str,
        acc: Lin,
        rank: int,
        mask: bool,
        ind: str | None,
        conf: float,
        path: str = "",
    ) -> None:
        if isinstance(src, Scope):
            lin = self.lineage(src).column(name)
        elif isinstance(src, exp.Table):
            canon = self._canonical(src)
            if canon is None:
                return
            temp = self.temps.get(canon)
            if temp is None:
                column = _field(name, path)
                if ind is not None:
                    add(acc, (canon, column, ind), 0, False, conf)
                else:
                    add(acc, (canon, column, D), rank, mask, conf)
                return
            lin = temp.column(name)
        else:
            return
        if lin:
            compose(acc, _of_field(lin, path), rank, mask, ind, conf)


def _field(*parts: str) -> str:
    """A column or struct field path: the non-empty parts joined with dots."""
    return ".".join(p for p in parts if p)


def _of_field(lin: Lin, path: str) -> Lin:
    """The lineage of field ``path`` of a derived column: a column copied as is (IDENTITY)
    becomes that field of its source column; anything else keeps its own sources (a struct
    built by a function is traced to its inputs, not to a field of them)."""
    if not path:
        return lin
    return {
        (t, _field(c, path) if k == D and r == 0 and c != "*" else c, k): (r, m, cf)
        for (t, c, k), (r, m, cf) in lin.items()
    }


def _field_access(node: exp.Expr) -> tuple[exp.Column | None, str]:
    """The column and field path of ``col.field.sub`` past sqlglot's four name parts (a
    ``Dot`` chain) or of a Snowflake / Databricks variant path ``col:field.sub`` made of keys
    only; ``(None, "")`` for any other access (a subscript, a function's result)."""
    names: list[str] = []
    while isinstance(node, exp.Dot):
        if not isinstance(node.expression, exp.Identifier):
            return None, ""
        names.append(node.expression.name.lower())
        node = node.this
    names.reverse()
    if isinstance(node, exp.JSONExtract):
        keys = node.expression.expressions if isinstance(node.expression, exp.JSONPath) else []
        if not keys or not all(isinstance(k, (exp.JSONPathRoot, exp.JSONPathKey)) for k in keys):
            return None, ""
        names = [str(k.this).lower() for k in keys if isinstance(k, exp.JSONPathKey)] + names
        node = node.this
    if not isinstance(node, exp.Column) or isinstance(node.this, exp.Star):
        return None, ""
    return node, _field(*names)


def _lateral(lin: Lin, name: str) -> bool:
    """Whether a later reference to alias ``name`` means the alias: not when the alias is made
    from a column of the same name (``upper(email) AS email, email AS raw``), since a table
    column wins over a lateral alias in every engine that has them."""
    return all(c != name for _, c, _ in lin)
