"""Which geography (us, eu, apac, ...) a cloud region belongs to, from its name alone.

This is the fallback: when the catalog knows a region's geography, pass its lookup to ``evaluate`` as
``region_geo`` and these prefix rules are never consulted. Names follow each cloud's own conventions:
AWS ``eu-west-1``, GCP ``europe-west4``, Azure ``westeurope`` (no separators, geography words inside).
"""

from __future__ import annotations

_PREFIXES: dict[str, tuple[tuple[str, str], ...]] = {
    "aws": (("us-", "us"), ("ca-", "ca"), ("eu-", "eu"), ("ap-", "apac"), ("sa-", "sa"), ("me-", "me"),
            ("il-", "me"), ("af-", "af"), ("mx-", "mx"), ("cn-", "cn")),
    "gcp": (("us-", "us"), ("northamerica-south", "mx"), ("northamerica-", "ca"), ("europe-", "eu"),
            ("asia-", "apac"), ("australia-", "apac"), ("southamerica-", "sa"), ("me-", "me"),
            ("africa-", "af")),
}

# Azure region names are single words; the geography is a word inside them. Checked in order, so the
# more specific words come first ("southafricanorth" must not match "north...").
_AZURE_WORDS: tuple[tuple[str, str], ...] = (
    ("southafrica", "af"), ("brazil", "sa"), ("mexico", "mx"), ("canada", "ca"),
    ("uae", "me"), ("qatar", "me"), ("israel", "me"), ("saudi", "me"),
    ("australia", "apac"), ("japan", "apac"), ("korea", "apac"), ("india", "apac"), ("asia", "apac"),
    ("indonesia", "apac"), ("malaysia", "apac"), ("newzealand", "apac"), ("taiwan", "apac"),
    ("europe", "eu"), ("france", "eu"), ("germany", "eu"), ("uk", "eu"), ("sweden", "eu"),
    ("switzerland", "eu"), ("norway", "eu"), ("poland", "eu"), ("italy", "eu"), ("spain", "eu"),
    ("austria", "eu"), ("belgium", "eu"), ("denmark", "eu"), ("finland", "eu"), ("greece", "eu"),
    ("us", "us"),
)

# GCS multi-region and dual-region locations (a bucket's `location`) are geographies themselves.
_MULTI: dict[str, str] = {"us": "us", "eu": "eu", "asia": "apac", "nam4": "us", "eur4": "eu", "eur5": "eu",
                          "eur7": "eu", "eur8": "eu", "asia1": "apac"}


def region_geo(cloud: str, region: str) -> str | None:
    """The geography of ``region`` on ``cloud``, or None when the name does not say."""
    name = region.lower().replace(" ", "")
    if cloud == "azure":
        return next((geo for word, geo in _AZURE_WORDS if word in name), None)
    if name in _MULTI:
        return _MULTI[name]
    for prefix, geo in _PREFIXES.get(cloud, ()):
        if name.startswith(prefix):
            return geo
    return None
