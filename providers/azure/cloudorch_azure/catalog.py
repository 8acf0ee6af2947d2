"""Azure's rows of a SkyPilot catalog: Arm sizes by name, and only sizes the rendered images can boot.

SkyPilot's Azure file has no Arch column, lists sizes that boot only Hyper-V generation 1 images (the
images cloudorch renders are generation 2) and still carries retired promotional SKUs. Skipped rows are
reported like unparseable ones.
"""

from __future__ import annotations

import re
from dataclasses import replace

from cloudorch.catalog.adapter import CsvRow, MachineRow, SkyPilotAdapter, parse_machine

# Size names carry their features after the vCPU count; "p" marks an Arm (Ampere) processor:
# Standard_D2ps_v5, Standard_E4pds_v5, Standard_B2pls_v2.
_ARM = re.compile(r"^Standard_[A-Z]+\d+[a-z]*p[a-z]*_v\d+")


class AzureSkyPilotAdapter(SkyPilotAdapter):
    version = "1"

    def machine(self, row: CsvRow) -> MachineRow:
        machine = parse_machine(row)
        if machine.instance_type.endswith("_Promo"):
            raise ValueError(f"{machine.instance_type}: retired promotional SKU")
        generation = row.get("Generation").replace(" ", "")
        if generation and "V2" not in generation.split(","):
            raise ValueError(f"{machine.instance_type}: Generation {generation} only; the images used are generation 2")
        if not row.get("Arch") and _ARM.match(machine.instance_type):
            machine = replace(machine, arch="arm64")
        return machine
