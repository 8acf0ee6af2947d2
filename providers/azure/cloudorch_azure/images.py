"""Neutral image names to Azure Marketplace image references.

Marketplace images are global, so the region does not matter on Azure; ``version: latest`` lets a
re-image pick up patched builds. Arm64 builds are separate SKUs of the same offer.
"""

from __future__ import annotations

# image -> (publisher, offer, {arch: sku})
_IMAGES: dict[str, tuple[str, str, dict[str, str]]] = {
    "ubuntu-24.04": ("Canonical", "ubuntu-24_04-lts", {"x86_64": "server", "arm64": "server-arm64"}),
    "ubuntu-22.04": ("Canonical", "0001-com-ubuntu-server-jammy", {"x86_64": "22_04-lts-gen2", "arm64": "22_04-lts-arm64"}),
    "debian-12": ("Debian", "debian-12", {"x86_64": "12-gen2", "arm64": "12-arm64"}),
}

IMAGES: tuple[str, ...] = tuple(sorted(_IMAGES))


def image_reference(image: str, arch: str, region: str | None = None) -> dict[str, str]:
    """The ``imageReference`` of a scale set; ``region`` is accepted for symmetry with other clouds."""
    try:
        publisher, offer, skus = _IMAGES[image]
    except KeyError:
        raise ValueError(f"azure has no image {image!r}; known: {', '.join(IMAGES)}") from None
    if arch not in skus:
        raise ValueError(f"azure image {image!r} has no {arch} build")
    return {"publisher": publisher, "offer": offer, "sku": skus[arch], "version": "latest"}
