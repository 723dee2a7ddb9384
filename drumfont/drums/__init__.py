"""Drums: the hierarchical VAE over bars, its data, metrics and reports, and the one engine every
command and the studio use (`engine.load_engine`: the VAE, or the genre rules with the reason).

This package only hands names on; the code lives in its named modules."""

from drumfont.drums.model import LEVELS, PRESET_NAME, SHIPPED, DrumModel, endpoint, load, preset_available, to_grid

__all__ = ["LEVELS", "PRESET_NAME", "SHIPPED", "DrumModel", "endpoint", "load", "preset_available", "to_grid"]
