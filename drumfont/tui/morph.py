"""The studio's morph view and its export: A→B in steps at a latent level, drawn as a strip of
mini grids; the export of a bar, the bank or the morph (a mixin of the app)."""


from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from rich.markup import escape
from textual import work
from textual.widgets import ContentSwitcher

from drumfont.errors import DrumfontError
from drumfont.score.pattern import Pattern
from drumfont.tui import session as st
from drumfont.tui.messages import Morphed, WorkFailed
from drumfont.tui.widgets import (
    ConfirmScreen,
    MorphStrip,
    PathPrompt,
)


class MorphMixin:
    """Morph and export actions (needs: studio, engine, the drawing helpers of the app)."""

    def _draw_morph(self) -> None:
        s = self.studio
        head = (f"[b]morph[/b] A → B · level [b]{s.morph_level}[/b] · {s.morph_steps} steps · "
                f"A {'set' if s.doc.a else '—'} · B {'set' if s.doc.b else '—'}")
        if not self.engine.can_morph and self._engine_ready.is_set():
            head += f"\n[dim]morph is off: {escape(self.engine.reason or '')}[/dim]"
        else:
            head += "\n[dim]M morph · L level · n/N steps · P play chain · e export[/dim]"
        self._update("#morph-head", head)
        n = len(s.morph)
        labels = ["A" if i == 0 else "B" if i == n - 1 else f"{i}" for i in range(n)]
        strip = self.main.query_one(MorphStrip)
        if strip.patterns != s.morph or strip.labels != labels:
            strip.show(s.morph, labels)

    # --- morph -----------------------------------------------------------------------------
    def action_morph(self) -> None:
        """Interpolate A -> B at the chosen level and show the strip."""
        s = self.studio
        self.main.query_one(ContentSwitcher).current = "morph-view"
        if self._engine_ready.is_set() and not self.engine.can_morph:
            self.fail(f"morph is off: {self.engine.reason}")
            return
        if s.doc.a is None or s.doc.b is None:
            self.fail("put bars in A and B first: a and b copy the current bar there")
            return
        self.say(f"morphing at the {s.morph_level} level…")
        self._morph(s.doc.a, s.doc.b, s.morph_steps, s.morph_level)

    @work(thread=True, exclusive=True, group="morph")
    def _morph(self, a: Pattern, b: Pattern, steps: int, level: str) -> None:
        self._engine_ready.wait()
        try:
            out = self.engine.interpolate(a, b, steps, level)
        except DrumfontError as exc:
            self.post_message(WorkFailed("morph", str(exc)))
            return
        self.post_message(Morphed(out, level))

    def on_morphed(self, msg: Morphed) -> None:
        s = self.studio
        if (msg.level, len(msg.patterns)) != (s.morph_level, s.morph_steps):
            return  # made for settings changed since; the morph at the current ones is on its way
        s.morph = list(msg.patterns)
        self.refresh_all()
        self.say(f"morph: {len(msg.patterns)} bars at the {msg.level} level (P plays, e exports)")

    def action_morph_level(self) -> None:
        lvl = self.studio.cycle_morph_level()
        self._settings_changed(f"morph level: {lvl}")

    def action_morph_steps(self, delta: int) -> None:
        before = self.studio.morph_steps
        n = self.studio.set_morph_steps(before + delta)
        if n == before:
            self.say(f"morph steps: {n} ({'most' if delta > 0 else 'fewest'} the strip shows)")
            return
        self._settings_changed(f"morph steps: {n}")

    def _settings_changed(self, said: str) -> None:
        """A morph on show was made at the old level or steps: make it again at the new ones (the
        strip, P and e always hold the morph the header names), or drop it where it cannot be."""
        s = self.studio
        remake = bool(s.morph) and s.doc.a is not None and s.doc.b is not None and self.engine.can_morph
        s.morph = []
        self.refresh_all()
        if remake:
            self.say(f"{said}; morphing again…")
            self._morph(s.doc.a, s.doc.b, s.morph_steps, s.morph_level)
        else:
            self.say(said)

    # --- export ----------------------------------------------------------------------------
    def action_export(self) -> None:
        self._export("morph" if self.view == "morph-view" else "bar")

    def action_export_bank(self) -> None:
        self._export("bank")

    def action_export_morph(self) -> None:
        self._export("morph")

    def _export(self, kind: str) -> None:
        s = self.studio
        try:
            items: list[Any] = {"bar": lambda: [s.phrase] if s.phrase is not None else [],
                                "bank": s.bank_phrases, "morph": lambda: s.morph,
                                "song": lambda: s.song_bars()[0]}[kind]()
        except DrumfontError as exc:
            self.fail(f"export: {exc}")
            return
        if not items or (kind == "bar" and not any(b.hits.any() for b in s.phrase.bars)):
            self.fail({"bar": "the phrase is empty", "bank": "the bank is empty", "song": "the song is empty",
                       "morph": "no morph yet: press M first"}[kind])
            return
        once = kind == "song"  # the song's sections say how often each phrase plays
        count = (len(items) if kind in ("morph", "song") else sum(len(p) for p in items)) * (1 if once else s.transport.bars)
        what = "phrase" if kind == "bar" else kind
        default = str(self.export_dir / st.default_export_name(kind, s))

        def write(target: Path, force: bool) -> None:
            try:
                out = st.export_patterns(target, items, s.transport, force=force,
                                         name=f"drumfont {s.genre} {what}", repeats=not once)
            except DrumfontError as exc:
                self.fail(f"export: {exc}")
                return
            self.say(f"wrote {count} bar{'s' if count > 1 else ''} to {out}")
            self.notify(f"wrote {out}", timeout=4, markup=False)
        self._ask_path(f"export the {what} ({count} bar{'s' if count > 1 else ''}) to:",
                       default, write, "export cancelled")

    def _ask_path(self, prompt: str, default: str, then: Callable[[Path, bool], None], cancelled: str) -> None:
        """Ask for a path (relative ones under the export folder); an existing file is replaced
        only after a yes. Then `then(target, force)`."""
        def answer(path: str | None, force: bool = False) -> None:
            if not path:
                self.say(cancelled)
                return
            target = Path(path).expanduser()
            if not target.is_absolute():
                target = self.export_dir / target
            if target.exists() and not force:
                self.push_screen(ConfirmScreen(f"{target} exists. Overwrite it?"),
                                 lambda yes: answer(path, True) if yes else self.say("not overwritten"))
                return
            then(target, force)
        self.push_screen(PathPrompt(prompt, default), answer)

