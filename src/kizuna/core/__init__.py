"""kizuna.core."""
