"""Allow `python -m nubes`."""

from nubes.cli import main

main()
