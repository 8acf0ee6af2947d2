"""PCI DSS v4.0: the baseline rules that implement its network, cryptography, access and logging
requirements, enforced as mandatory."""

from __future__ import annotations

from functools import cache

from cloudorch.policy import Pack

from cloudorch_policies._subset import subset

FRAMEWORK = "pci-dss-4.0"
REQUIREMENTS: dict[str, tuple[str, ...]] = {
    # 1.3 / 1.4: restrict traffic between untrusted networks and the cardholder data environment
    "network.admin-ports-open": ("1.3.1", "1.4.2"),
    "network.all-ports-open": ("1.3.1", "1.4.2"),
    "network.public-ingress": ("1.4.2",),
    "database.public": ("1.4.4",),
    "storage.public-bucket": ("1.4.4",),
    "storage.public-access-block": ("1.4.4",),
    "compute.public-ip": ("1.4.4",),
    # 2.2: secure configurations
    "compute.imdsv2": ("2.2.1", "2.2.5"),
    # 3.5 / 3.7: stored account data is unreadable; keys are managed and rotated
    "encryption.disk": ("3.5.1",),
    "encryption.database": ("3.5.1",),
    "encryption.bucket": ("3.5.1",),
    "encryption.key-rotation": ("3.7.4",),
    # 4.2: strong cryptography in transit
    "encryption.storage-https-only": ("4.2.1",),
    "encryption.storage-min-tls": ("4.2.1",),
    "encryption.database-tls": ("4.2.1",),
    "encryption.lb-https": ("4.2.1",),
    # 6.4.2: public-facing web applications behind an automated technical solution (a WAF)
    "network.lb-waf": ("6.4.2",),
    # 7.2: least privilege
    "identity.admin-privileges": ("7.2.1", "7.2.2"),
    "identity.default-service-account": ("7.2.2",),
    # 10.2 / 10.5: audit logs enabled and kept for a year
    "logging.flow-logs": ("10.2.1",),
    "logging.database-logs": ("10.2.1",),
    "logging.database-statements": ("10.2.1",),
    "logging.lb-access-logs": ("10.2.1",),
    "storage.access-logging": ("10.2.1",),
    "logging.log-retention": ("10.5.1",),
}


@cache
def pack() -> Pack:
    return subset("pci-dss", FRAMEWORK, REQUIREMENTS,
                  description="PCI DSS v4.0 requirements 1, 2, 3, 4, 7 and 10 (mandatory).")
