"""What playing needs of a trained model, without torch: inference layers on numpy (`layers`) and
preset files without pickle (`preset`). Training builds the same models in torch (trainers/)."""

from drumfont.nn import layers, preset

__all__ = ["layers", "preset"]
