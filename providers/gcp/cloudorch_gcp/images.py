"""Neutral image names to GCP public image families.

Families, not pinned images: the family always points at the latest patched build, and an instance
template is immutable, so a rollout picks the current build without cloudorch tracking image ids.
"""

from __future__ import annotations

from cloudorch.errors import UsageError

_FAMILIES: dict[str, dict[str, str]] = {
    "ubuntu-24.04": {
        "x86_64": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
        "arm64": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-arm64",
    },
    "ubuntu-22.04": {
        "x86_64": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts",
        "arm64": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts-arm64",
    },
    "debian-12": {
        "x86_64": "projects/debian-cloud/global/images/family/debian-12",
        "arm64": "projects/debian-cloud/global/images/family/debian-12-arm64",
    },
}

IMAGES: tuple[str, ...] = tuple(_FAMILIES)


def image_for(image: str, arch: str) -> str:
    try:
        return _FAMILIES[image][arch]
    except KeyError:
        raise UsageError(
            f"gcp has no image for {image!r} on {arch}",
            hint=f"use one of: {', '.join(IMAGES)}",
        ) from None
