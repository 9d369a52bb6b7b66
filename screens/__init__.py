"""The Textual UI of sygesikring-tui (the core in ``sygesikring_tui`` never imports this)."""
