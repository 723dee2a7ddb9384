"""`python -m drumfont` is the same as the `drumfont` command."""

from drumfont.cli import main

raise SystemExit(main())
