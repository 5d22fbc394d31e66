"""What every layer of the product shares: the exception hierarchy (:mod:`core.errors`).

The core packages (``lineage``, ``audits``, ``reports``) and the shell (``jobs``) all import
from here; nothing here imports any of them.
"""
