"""The network stage, between placement and rendering: sites and their address blocks, the links that
make one stack network one network across regions and clouds, the addresses those links need, and the
proof (``reach``) that the rendered resources carry every declared flow."""
