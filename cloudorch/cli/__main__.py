"""`python -m cloudorch.cli`: the same entry point as the `cloudorch` command."""

from cloudorch.cli.app import main

main()
