"""Neutral image names -> AMIs, resolved by EC2 itself from the distributions' public SSM parameters.

`resolve:ssm:` in a launch template's imageId makes EC2 look the parameter up in the launching region at
launch time, so one string serves every region and there is no per-region AMI table to go stale.
Canonical publishes 24.04 under ebs-gp3 and 22.04 under ebs-gp2; Debian publishes per release number.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudorch.errors import UsageError

_ARCH = {"x86_64": "amd64", "arm64": "arm64"}
_CANONICAL = "/aws/service/canonical/ubuntu/server/{release}/stable/current/{{arch}}/hvm/{storage}/ami-id"


@dataclass(frozen=True)
class Image:
    parameter: str  # with `{arch}` for the distribution's own architecture name
    root_device: str  # the AMI's root device, which the launch template's disk mapping must name


IMAGES: dict[str, Image] = {
    "ubuntu-24.04": Image(_CANONICAL.format(release="24.04", storage="ebs-gp3"), "/dev/sda1"),
    "ubuntu-22.04": Image(_CANONICAL.format(release="22.04", storage="ebs-gp2"), "/dev/sda1"),
    "debian-12": Image("/aws/service/debian/release/12/latest/{arch}", "/dev/xvda"),
}


def lookup(image: str) -> Image:
    try:
        return IMAGES[image]
    except KeyError:
        raise UsageError(
            f"aws has no image {image!r}", hint=f"use one of: {', '.join(sorted(IMAGES))}"
        ) from None


def image_id(image: str, arch: str) -> str:
    return "resolve:ssm:" + lookup(image).parameter.format(arch=_ARCH[arch])


def root_device(image: str) -> str:
    return lookup(image).root_device
