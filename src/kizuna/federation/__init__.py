"""kizuna.federation."""
