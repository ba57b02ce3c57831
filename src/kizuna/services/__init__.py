"""kizuna.services."""
