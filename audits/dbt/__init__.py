"""dbt artifacts (``manifest.json``, ``catalog.json``, ``run_results.json``) as lineage input.

:mod:`.artifacts` reads the artifacts of one dbt ``target/`` folder into one record per node;
:mod:`.categories` maps column ``meta``/``tags`` to data categories. The landing reads them as a
query-log format (:mod:`audits.querylog_formats.dbt`). Pure: no Spark, no I/O.
"""
