"""The on-demand commands that are not nightly steps: purge, restore, vacuum, datamap, lineage,
impact, review and export (``compliance <command>``)."""
