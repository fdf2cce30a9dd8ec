"""SMTP delivery with aiosmtplib, mapping its errors to transient or permanent.

aiosmtplib does not raise when only some recipients are refused: it returns
them. We send one recipient per message, but still check that dict.
"""

from __future__ import annotations

import ssl

import aiosmtplib

from mailbot.config import SmtpConfig
from mailbot.errors import PermanentDeliveryError, SenderSetupError, TransientDeliveryError


class SmtpTransport:
    """Delivers through the configured SMTP server (TLS, STARTTLS or plain)."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.description = f"smtp:{config.host}:{config.port}"

    async def deliver(self, mail_from: str, rcpt_to: str, raw: bytes) -> None:
        """Send *raw* to *rcpt_to*; raise Transient/PermanentDeliveryError on failure."""
        cfg = self.config
        try:
            errors, _reply = await aiosmtplib.send(
                raw, sender=mail_from, recipients=[rcpt_to],
                hostname=cfg.host, port=cfg.port,
                use_tls=cfg.security == "tls",
                start_tls=cfg.security == "starttls",
                tls_context=self._tls_context(),
                username=cfg.user or None,
                password=cfg.password.get_secret_value() if cfg.password else None,
                timeout=cfg.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0] if exc.recipients else None
            code = refused.code if refused else 550
            raise _by_code(code, f"{code} {refused.message if refused else exc}") from exc
        except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPNotSupported) as exc:
            # Our own configuration is wrong, not the recipient: keep the mail
            # queued until someone fixes the settings.
            raise SenderSetupError(f"server refused our session: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code, f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransientDeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if errors:
            response = next(iter(errors.values()))
            raise _by_code(response.code, f"{response.code} {response.message}")

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.config.security == "plain":
            return None
        cafile = str(self.config.ca_file) if self.config.ca_file else None
        return ssl.create_default_context(cafile=cafile)


def _by_code(code: int, text: str) -> TransientDeliveryError | PermanentDeliveryError:
    if 500 <= code < 600:
        return PermanentDeliveryError(text)
    return TransientDeliveryError(text)  # 4xx, and odd codes: better retry than drop
