"""`python -m realeyes.training.localizer`: the localizer commands, as `realeyes localizer` runs them."""

from realeyes.training.pipeline_cli import pipeline_group

pipeline_group("localizer", "localizer")(prog_name="realeyes localizer")
