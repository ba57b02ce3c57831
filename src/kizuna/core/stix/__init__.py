"""kizuna.core.stix."""
