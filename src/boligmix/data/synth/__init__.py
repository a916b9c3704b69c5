"""Synthetic Denmark: a register-shaped dataset generator calibrated to published figures.

`generate(scale, seed, years)` returns every required table of `boligmix.data.schema`;
`write_synthetic(out_dir, scale=, seed=, years=)` streams them to a dataset directory.
Scales: `small` (tests), `municipality` (demo), `national`. See docs/synthetic-data.md.
"""

from boligmix.data.synth.generator import VINTAGE, generate, write_synthetic
from boligmix.data.synth.scales import SCALES

__all__ = ["SCALES", "VINTAGE", "generate", "write_synthetic"]
