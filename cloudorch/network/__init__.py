"""The network stage, between placement and rendering: sites and their address blocks, the links that
make one stack network one network across regions and clouds, and the addresses those links need (kept
in a record so they never move). That the rendered resources then carry every declared flow is proved by
the rendering stage (``cloudorch.rendering.reach``), from what the providers rendered."""
