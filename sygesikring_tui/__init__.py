"""sygesikring-tui core: domain rules, case store, sync client and server.

Nothing in this package (outside ``cli``'s lazy UI launch) imports Textual or ``screens``.
"""

__version__ = "0.1.0"
