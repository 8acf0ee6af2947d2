"""Reading rendered inputs in a check: nested paths, unknown values, the clouds' spellings of "open".

The helpers live with the rendered model (``cloudorch.rendering.inputs``), where providers use them to read
their own resources into neutral facts; a policy written against one cloud's inputs imports them from here.
"""

from cloudorch.rendering.inputs import (
    MISSING,
    UNKNOWN,
    WORLD_CIDRS,
    any_on,
    covers,
    flag,
    get,
    is_all_ports,
    is_world,
    items,
    port_range,
)

__all__ = ["MISSING", "UNKNOWN", "WORLD_CIDRS", "any_on", "covers", "flag", "get", "is_all_ports", "is_world",
           "items", "port_range"]
