"""mailbot's exception tree.

::

    MailbotError
    ├── ConfigError            a setting is missing or contradictory
    ├── SourceError            the mailbox could not be read (retry next poll)
    ├── StoreError             the database failed (retry next poll)
    └── DeliveryError          an outgoing message was not delivered
        ├── TransientDeliveryError   4xx, disconnect, timeout: retry later
        │   └── SenderSetupError     our side is wrong (auth refused, no TLS):
        │                            retry later without using up attempts
        └── PermanentDeliveryError   5xx: do not retry, record on the ticket

Adapters translate library exceptions into these with ``raise ... from exc``,
so the core never imports imapclient or aiosmtplib.
"""


class MailbotError(Exception):
    """Base of every error mailbot raises on purpose."""


class ConfigError(MailbotError):
    """A setting is missing or contradictory."""


class SourceError(MailbotError):
    """The mailbox could not be read; the next poll tries again."""


class StoreError(MailbotError):
    """The database failed; the message stays at the source for the next poll."""


class DeliveryError(MailbotError):
    """An outgoing message was not delivered."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying: a 4xx reply, a dropped connection, a timeout."""


class SenderSetupError(TransientDeliveryError):
    """Our own sending setup is wrong (authentication refused, TLS missing).

    Not the recipient's fault: the message stays queued, and these attempts
    do not count towards ``max_attempts``, until the settings are fixed.
    """


class PermanentDeliveryError(DeliveryError):
    """Not worth retrying: a 5xx reply."""
