"""kizuna.storage."""
