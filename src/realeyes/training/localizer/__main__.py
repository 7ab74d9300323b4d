"""`python -m realeyes.training.localizer`: the localizer commands, as `realeyes localizer` runs them."""

from realeyes.training.localizer.cli import localizer

localizer(prog_name="realeyes localizer")
