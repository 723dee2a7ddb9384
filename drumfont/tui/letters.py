"""The studio's letters pane: text in the GAN's typeface (PNG, or SVG beside it), its colours and
size, a new typeface, and "save font" (an .otf/.ttf of the current typeface). A mixin of
`StudioApp` (app.py).

Tracing a typeface takes seconds, so it runs in worker threads that post messages back, and the
traced typeface of the current seed is kept (`_typeface`) for the renders and the font that follow.
"""

from __future__ import annotations

import re
from pathlib import Path

from textual import work
from textual.widgets import Input

from drumfont.atomic import write_atomic
from drumfont.errors import DrumfontError
from drumfont.letters.engine import check_text, drawable, write_png
from drumfont.tui.messages import FontSaved, LettersRendered, WorkFailed
from drumfont.tui.widgets import HalfBlockImage


class LettersMixin:
    """Letters-pane actions (needs: studio, main, view, data_dir, export_dir, letters_preset,
    letters_renderer, letters_path, _typefaces, say, autosave, notify, post_message, _update,
    _ask_path, action_view)."""

    def action_letters_render(self) -> None:
        s = self.studio
        s.letters_text = self.main.query_one("#letters-input", Input).value
        self.autosave()
        self._update("#letters-info", f"rendering {s.letters_text!r} (typeface {s.letters_seed})…",
                     markup=False)
        self._render_letters(s.letters_text, s.letters_seed, s.letters_scale)

    def action_letters_reroll(self) -> None:
        self.studio.letters_seed += 1
        if self.view != "letters-view":
            self.action_view("letters-view")
        self.action_letters_render()

    def action_letters_cycle(self, what: str) -> None:
        """Next text colour ('fg') or background ('bg'), then render again."""
        value = self.studio.cycle_letters(what)
        self.say(f"letters {'text colour' if what == 'fg' else 'background'}: {value}")
        self._letters_again()

    def action_letters_size(self, factor: float) -> None:
        size = self.studio.set_letters_size(round(self.studio.letters_size * factor))
        self.say(f"letters size: {size} px per em")
        self._letters_again()

    def action_letters_svg(self) -> None:
        self.studio.letters_svg = not self.studio.letters_svg
        self.say(f"letters: SVG {'on' if self.studio.letters_svg else 'off'}")
        self._letters_again()

    def _letters_again(self) -> None:
        if self.view != "letters-view":
            self.action_view("letters-view")
        self.action_letters_render()

    def _typeface(self, seed: int):
        """The traced typeface of a seed, built once per seed (the worker thread calls this)."""
        if seed not in self._typefaces:
            from drumfont.letters import font  # noqa: PLC0415 (start-up: the studio's first frame does not wait for fontTools and tracing; docs/architecture.md)

            self._typefaces = {seed: font.build_typeface(seed, preset=self.letters_preset)}
        return self._typefaces[seed]

    @work(thread=True, exclusive=True, group="letters")
    def _render_letters(self, text: str, seed: int, scale: int) -> None:
        s = self.studio
        svg = None
        try:
            if self.letters_renderer is not None:
                image = self.letters_renderer(text, seed, scale)
            else:
                from drumfont.letters import typeset  # noqa: PLC0415 (start-up: the studio's first frame does not wait for fontTools and tracing; docs/architecture.md)

                check_text(text, drawable(self.letters_preset))  # names a bad character before tracing
                face = self._typeface(seed)
                fg, bg = typeset.parse_colour(s.letters_fg), typeset.parse_colour(s.letters_bg, allow_transparent=True)
                image = typeset.render_png(face, text, s.letters_size, fg, bg)
                svg = typeset.render_svg(face, text, s.letters_size, fg, bg) if s.letters_svg else None
            slug = re.sub(r"[^A-Za-z0-9]+", "-", text.strip()).strip("-").upper() or "TEXT"
            path = self.data_dir / "letters" / f"{slug[:40]}-{seed}.png"

            # Same text and seed draw the same image, so replacing that file loses nothing.
            write_png(image, path, force=True)
            if svg is not None:
                path = write_atomic(path.with_suffix(".svg"), svg.encode(), force=True)
        except ImportError as exc:
            self.post_message(WorkFailed("letters", f"the letter GAN is not installed ({exc.name})"))
            return
        except DrumfontError as exc:
            self.post_message(WorkFailed("letters", str(exc)))
            return
        self.post_message(LettersRendered(image, path, text, seed))

    def action_save_font(self) -> None:
        """Ask where, then write the current typeface as an .otf in a worker."""
        seed = self.studio.letters_seed
        default = str(self.export_dir / f"DrumfontGAN-{seed}.otf")

        def save(target: Path, force: bool) -> None:
            self.say(f"building the typeface {seed} into {target}…")
            self._write_font(target, seed, force)
        self._ask_path(f"save typeface {seed} as an OpenType font (.otf, or .ttf) to:", default, save,
                       "font not saved")

    @work(thread=True, exclusive=True, group="font")
    def _write_font(self, target: Path, seed: int, force: bool) -> None:
        try:
            from drumfont.letters import font  # noqa: PLC0415 (start-up: the studio's first frame does not wait for fontTools and tracing; docs/architecture.md)

            font.check_target(target, force)
            face = self._typeface(seed)
            out = write_atomic(target, font.font_bytes(face, ttf=target.suffix.lower() == ".ttf"), force=force)
        except DrumfontError as exc:
            self.post_message(WorkFailed("font", str(exc)))
            return
        except ImportError as exc:
            self.post_message(WorkFailed("font", f"a font library is not installed ({exc.name})"))
            return
        self.post_message(FontSaved(out, seed, len(face.glyphs)))

    def on_font_saved(self, msg: FontSaved) -> None:
        self.say(f"font: wrote {msg.path} ({msg.glyphs} glyphs, typeface {msg.seed})")
        self.notify(f"wrote {msg.path}", timeout=4, markup=False)

    def on_letters_rendered(self, msg: LettersRendered) -> None:
        self.letters_path = msg.path
        self.main.query_one(HalfBlockImage).show(msg.image)
        s = self.studio
        opts = "" if self.letters_renderer is not None else (
            f" · {s.letters_fg} on {s.letters_bg}, {s.letters_size} px")
        self._update("#letters-info", f"typeface {msg.seed}{opts} · {msg.path.suffix[1:].upper()}: {msg.path}",
                     markup=False)
        self.say(f"letters: wrote {msg.path}")
