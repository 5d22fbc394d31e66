"""Catalog discovery: suggested data categories from column names and sampled values.

* :mod:`audits.discovery.names`: the column-name vocabulary;
* :mod:`audits.discovery.values`: the value detectors (email, phone, IBAN, card, IP, birth date,
  person name, postal code);
* :mod:`audits.discovery.sampling`: bounded sampling with the detectors on the executors;
* :mod:`audits.discovery.suggest`: one suggestion per column with its confidence and evidence;
* :mod:`audits.discovery.draft`: the draft catalog, never overwriting reviewed entries.
"""
