"""Pure domain rules: no I/O, no UI. Used by the wizards, the desk store and the server."""
