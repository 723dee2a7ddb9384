"""Letters: a GAN trained on fonts draws glyphs; typeset them as images or build a real font.

`engine` holds the loaded generator and its calls; this package only hands its names on."""

from drumfont.letters.engine import (
                                     CGAN_PRESET,
                                     CLASSIFIER_PRESET,
                                     GAN_PRESET,
                                     LETTERS,
                                     MAX_CHARS,
                                     MAX_SCALE,
                                     check_text,
                                     conditional_generator,
                                     draw_glyphs,
                                     drawable,
                                     generator_info,
                                     glyph_cells,
                                     image_bytes,
                                     image_target,
                                     load_classifier,
                                     load_generator,
                                     png_bytes,
                                     render_grid,
                                     render_text,
                                     style_from_image,
                                     style_latent,
                                     write_image,
                                     write_png,
                                     write_text_png,
)

__all__ = ["CGAN_PRESET", "CLASSIFIER_PRESET", "GAN_PRESET", "LETTERS", "MAX_CHARS", "MAX_SCALE", "check_text",
           "conditional_generator", "draw_glyphs", "drawable", "generator_info", "glyph_cells", "image_bytes",
           "image_target", "load_classifier",
           "load_generator", "png_bytes", "render_grid", "render_text", "style_from_image", "style_latent",
           "write_image", "write_png", "write_text_png"]
