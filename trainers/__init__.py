"""The trainers: one readable script per model, installed as `drumfont.trainers` (the source stays in
the top-level trainers/ folder). They import torch; nothing a user command runs imports them."""
