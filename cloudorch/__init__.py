"""cloudorch: place cloud-neutral stacks across AWS, Azure and GCP, check them, apply them with Pulumi."""

__version__ = "0.1.0"
