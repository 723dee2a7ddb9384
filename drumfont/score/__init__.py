"""The torch-free core everything stands on: the bar (Pattern), the voice table and note maps,
.mid reading and writing, and the genre list."""
