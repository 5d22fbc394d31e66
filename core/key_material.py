"""What key material looks like in text: one rule for the landing, which redacts it from free
text (``audits.redaction``), and the report, which refuses to show it (``reports.safety``)."""

from __future__ import annotations

#: A PEM header (``-----BEGIN RSA PRIVATE KEY-----``, ``-----BEGIN CERTIFICATE-----``, ...) or the
#: words ``PRIVATE KEY``. The syntax is common to Python's ``re`` and Java's regex (Spark).
KEY_MARKER = r"-----BEGIN [A-Z0-9 ]+-----|PRIVATE KEY"

#: A whole PEM block, to its END line or the end of the text, or any :data:`KEY_MARKER`.
KEY_MATERIAL = r"(?s)-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|$)|" + KEY_MARKER
