"""`python -m fleetlake` runs the command line."""

from fleetlake.cli import main

main()
