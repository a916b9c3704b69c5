"""Social mix: composition of stock, in-movers and out-movers, flows and their decomposition.

    from boligmix.mix import compute_mix, write_outputs, MixSettings
    result = compute_mix("data/synth", range(2010, 2021), level="area", listed=membership_frame)
    write_outputs(result, "out/mix")

Segregation indices live in `boligmix.mix.segregation` (a separate module).
"""

from boligmix.mix.pipeline import MixResult, compute_mix
from boligmix.mix.publish import add_mix_sections, build_report, protect_tables, write_outputs
from boligmix.mix.settings import MixSettings

__all__ = ["MixResult", "MixSettings", "add_mix_sections", "build_report", "compute_mix", "protect_tables",
           "write_outputs"]
