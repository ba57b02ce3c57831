"""CSAF 2.0: the advisory model, the writer and the reader (pure core, no I/O)."""

from kizuna.core.csaf.model import (
    Advisory,
    Cwe,
    Note,
    Product,
    ProductStatus,
    Publisher,
    Reference,
    Remediation,
    Revision,
    Score,
    Tracking,
    Vulnerability,
    VulnerabilityId,
)

__all__ = [
    "Advisory",
    "Cwe",
    "Note",
    "Product",
    "ProductStatus",
    "Publisher",
    "Reference",
    "Remediation",
    "Revision",
    "Score",
    "Tracking",
    "Vulnerability",
    "VulnerabilityId",
]
