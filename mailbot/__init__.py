"""mailbot: turns the e-carnet support mailbox into tracked tickets.

Flow, in one direction only::

    source -> parse -> classify -> thread -> act -> persist -> outbox -> send
"""

__version__ = "0.1.0"
