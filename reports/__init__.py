"""HTML audit reports: a pure renderer from plain-Python records to self-contained files.

Public API::

    from reports import render_nightly, render_datamap, render_impact
    from reports.model import NightlyReport, Section, DataMap, DeletionCase, GraphView, ImpactReport
    from reports import sections   # builders of the standard nightly sections
"""

from __future__ import annotations

from reports.render import render_datamap, render_impact, render_nightly

__all__ = ["render_datamap", "render_impact", "render_nightly"]
