"""Allow ``python -m callcoach``."""

from .cli import main

main()
