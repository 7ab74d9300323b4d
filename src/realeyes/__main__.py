"""`python -m realeyes` runs the command line."""

from realeyes.cli import main

main()
