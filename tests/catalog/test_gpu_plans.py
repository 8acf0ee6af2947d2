"""Stacks asking for the GPUs the embedded catalog gained (issue 10) plan on it, on each cloud that sells them."""

from __future__ import annotations

import pytest

from cloudorch import api

STACK = """stack: gpu
placement:
  clouds: [{cloud}]
resources:
  net:
    kind: network
    cidr: 10.0.0.0/16
  worker:
    kind: compute
    network: net
    cpu: 4
    memory_gb: 15
    accelerator: {{type: {gpu}, count: {count}}}
"""


@pytest.mark.parametrize(("cloud", "gpu", "count", "itype"), [
    ("aws", "H100", 8, "p5.48xlarge"),
    ("azure", "H100", 8, "Standard_ND96isr_H100_v5"),
    ("gcp", "H100", 8, "a3-highgpu-8g"),
    ("aws", "L4", 1, "g6.xlarge"),
    ("gcp", "T4", 1, "n1-standard-4"),
])
def test_a_stack_asking_for_the_accelerator_plans(tmp_path, cloud, gpu, count, itype):
    path = tmp_path / "gpu.yaml"
    path.write_text(STACK.format(cloud=cloud, gpu=gpu, count=count))
    (worker,) = [p for p in api.plan(path).plan.placements if p.resource == "worker"]
    assert (worker.cloud, worker.instance_type) == (cloud, itype)
    assert worker.hourly_usd > 0
