"""HIPAA Security Rule technical safeguards (45 CFR 164.308, 164.312): the baseline rules that implement
them, enforced as mandatory."""

from __future__ import annotations

from functools import cache

from cloudorch.policy import Pack

from cloudorch_policies._subset import subset

FRAMEWORK = "hipaa"
SAFEGUARDS: dict[str, tuple[str, ...]] = {
    # access control
    "network.admin-ports-open": ("164.312(a)(1)",),
    "database.public": ("164.312(a)(1)",),
    "storage.public-bucket": ("164.312(a)(1)",),
    "storage.public-access-block": ("164.312(a)(1)",),
    "identity.admin-privileges": ("164.312(a)(1)", "164.308(a)(4)"),
    # encryption and decryption of ePHI at rest
    "encryption.disk": ("164.312(a)(2)(iv)",),
    "encryption.database": ("164.312(a)(2)(iv)",),
    "encryption.bucket": ("164.312(a)(2)(iv)",),
    # transmission security
    "encryption.storage-https-only": ("164.312(e)(1)", "164.312(e)(2)(ii)"),
    "encryption.storage-min-tls": ("164.312(e)(1)", "164.312(e)(2)(ii)"),
    "encryption.database-tls": ("164.312(e)(1)", "164.312(e)(2)(ii)"),
    "encryption.lb-https": ("164.312(e)(1)", "164.312(e)(2)(ii)"),
    # audit controls
    "logging.flow-logs": ("164.312(b)",),
    "logging.database-logs": ("164.312(b)",),
    "logging.database-statements": ("164.312(b)",),
    "storage.access-logging": ("164.312(b)",),
    # integrity and contingency planning
    "storage.versioning": ("164.312(c)(1)",),
    "database.backups": ("164.308(a)(7)(ii)(A)",),
}


@cache
def pack() -> Pack:
    return subset("hipaa", FRAMEWORK, SAFEGUARDS,
                  description="HIPAA Security Rule technical safeguards for ePHI (mandatory).")
