"""A CSAF advisory model to write in tests: one vulnerability, three products, every part used."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from kizuna.core.csaf import (
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

T1 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def advisory(**changes: object) -> Advisory:
    adv = Advisory(
        title="Out-of-bounds write in Example PLC firmware",
        publisher=Publisher("BSI", "https://www.bsi.bund.de", "coordinator"),
        tracking=Tracking(
            "KIZUNA-CVD-2026-0001",
            (Revision("1", T1, "Initial release"), Revision("2", T2, "Fix released")),
        ),
        tlp="clear",
        products=(
            Product(
                "PLC-1",
                "Example Corp",
                "PLC X",
                version_range="vers:generic/>=1.0|<2.3",
                cpe="cpe:2.3:h:example:plc_x:*:*:*:*:*:*:*:*",
            ),
            Product(
                "PLC-2",
                "Example Corp",
                "PLC X",
                version="2.3",
                purl="pkg:generic/example/plc-x@2.3",
            ),
            Product("HMI-1", "Example Corp", "HMI Panel"),
        ),
        vulnerabilities=(
            Vulnerability(
                cve="CVE-2026-12345",
                ids=(VulnerabilityId("JVN", "JVNVU#12345678"),),
                title="Out-of-bounds write in the Modbus parser",
                cwe=Cwe("CWE-787", "Out-of-bounds Write"),
                scores=(
                    Score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O", ("PLC-1",)),
                    Score("AV:N/AC:L/Au:N/C:P/I:P/A:P", ("PLC-2",)),
                ),
                statuses=(
                    ProductStatus("PLC-1", "known_affected"),
                    ProductStatus("PLC-2", "fixed"),
                    ProductStatus(
                        "HMI-1",
                        "known_not_affected",
                        justification="vulnerable_code_not_present",
                        impact_statement="The HMI does not parse Modbus.",
                    ),
                ),
                remediations=(
                    Remediation(
                        "vendor_fix", "Update to 2.3", ("PLC-1",), url="https://example.com/fw"
                    ),
                ),
                notes=(Note("description", "A crafted packet writes past a buffer."),),
                references=(Reference("https://example.com/psirt/1", "Vendor advisory"),),
                discovery_date=T1,
                release_date=T2,
            ),
        ),
        notes=(Note("summary", "Update the PLC firmware.", title="Summary"),),
        references=(Reference("https://example.com/psirt/1", "Vendor advisory"),),
    )
    return dataclasses.replace(adv, **changes)  # type: ignore[arg-type]
