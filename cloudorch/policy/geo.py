"""Which geography (us, eu, apac, ...) a cloud region belongs to, from its name alone.

This is the fallback: when the catalog knows a region's geography, pass its lookup to ``evaluate`` as
``region_geo`` and the name is never consulted. The table of names is the catalog's own
(``geo_of_region_name``), so placement and the residency policy can never disagree about a region.
"""

from __future__ import annotations

from cloudorch.catalog.model import geo_of_region_name


def region_geo(cloud: str, region: str) -> str | None:
    """The geography of ``region`` on ``cloud``, or None when the name does not say.

    ``cloud`` is part of the lookup signature (a catalog lookup needs it); the clouds' naming schemes do
    not overlap, so the name alone decides here.
    """
    geo = geo_of_region_name(region)
    return None if geo == "other" else geo
