"""mailbot's exception tree.

::

    MailbotError
    ├── ConfigError            a setting is missing or contradictory
    ├── SourceError            the mailbox could not be read (retry next poll)
    └── DeliveryError          an outgoing message was not delivered
        ├── TransientDeliveryError   4xx, disconnect, timeout: retry later
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


class DeliveryError(MailbotError):
    """An outgoing message was not delivered."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying: a 4xx reply, a dropped connection, a timeout."""


class PermanentDeliveryError(DeliveryError):
    """Not worth retrying: a 5xx reply."""
