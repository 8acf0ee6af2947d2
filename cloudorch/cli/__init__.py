"""The command-line interface: a thin layer over ``cloudorch.api``; one module per command group."""
