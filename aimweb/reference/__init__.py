"""Reference data: the covered HTS catalogue, CBP ports and countries (see data/PROVENANCE.md)."""
