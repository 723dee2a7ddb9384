"""The studio's widgets: the step grid, the morph strip, the song table, the half-block image, the dialogs."""

from drumfont.tui.widgets.dialogs import ChoiceScreen, ConfirmScreen, HelpScreen, PathPrompt
from drumfont.tui.widgets.grid import MorphStrip, StepGrid, mini_grid
from drumfont.tui.widgets.image import HalfBlockImage, half_block_text
from drumfont.tui.widgets.song import SongRow, SongTable

__all__ = ["ChoiceScreen", "ConfirmScreen", "HelpScreen", "PathPrompt", "MorphStrip", "StepGrid",
           "mini_grid", "HalfBlockImage", "half_block_text", "SongRow", "SongTable"]
