"""Placement: decide cloud, region and machine type for every resource of a stack."""
