"""kizuna.cli."""
