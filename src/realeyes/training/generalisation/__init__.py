"""The generalisation benchmark (../shared/docs/EVALUATION.md): whole sources held out, both classes laundered alike.

catalog  -> which images, with their label and held-out source (fold)
launder  -> the platform-style re-encoding applied identically to both classes
scores   -> every detector's score per image and condition (clean, laundered, hard real), cached in a CSV
protocol -> leave-one-source-out fusion, thresholds calibrated on other sources, the figures a user feels
"""
