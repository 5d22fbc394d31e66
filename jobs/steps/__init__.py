"""The nightly steps, one module per step of ``jobs.registry.STEPS`` (land, ingest, closure, audit,
keys, report) and the modules only that step uses. A step reads tables, calls the core
(``lineage``, ``audits``, ``reports``) with frames and typed models, and writes tables."""
