"""kizuna.http."""
