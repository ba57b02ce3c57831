"""kizuna: a federated CTI sharing node behind one policy gate."""

__version__ = "0.1.0"
