"""The signatory's pages, one module per page: signing and "check your inbox" (sign.py),
the emailed link (confirm.py), "Gérer ma signature" (manage.py), new links by email
(links.py) and « Ce n'est pas nous ? » (contest.py)."""

from .sign import clear_blank_forms

__all__ = ["clear_blank_forms"]  # what a save of a declaration, and the tests, call
