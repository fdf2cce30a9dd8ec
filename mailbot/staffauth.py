"""Is a mail that claims to come from a staff address really from them? (pure)

The caller checks that the From address is in the staff list; :func:`check_sender`
checks that the message proves it came from that domain, by one of:

- an ``Authentication-Results`` header (RFC 8601) written by **our** receiving
  server (recognised by its authserv-id) showing ``dkim=pass`` for a domain
  aligned with the From domain, ``spf=pass`` for an aligned ``smtp.mailfrom``,
  or ``dmarc=pass`` for the From domain itself (DMARC passes exactly when an
  aligned DKIM or SPF result passed; OpenDMARC writes it in a header of its own);
- a trusted relay as the connecting address of the topmost ``Received`` header.

Alignment is DMARC relaxed alignment: the same organizational domain by the
Public Suffix List bundled with ``publicsuffixlist`` (nothing is fetched).
Headers are parsed with ``authres``; a malformed one is a reason, never an
exception.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from email.message import Message
from email.utils import parseaddr
from functools import cache
from typing import Any

import authres
from publicsuffixlist import PublicSuffixList

from mailbot.headers import clip

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_FOLD = re.compile(r"\r?\n[ \t]*|\r[ \t]*")
_AUTHSERV_ID = re.compile(r"\s*([^\s;()]+)")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_RECEIVED_FROM = re.compile(r"\s*from\s+(\S+)(.*)", re.IGNORECASE | re.DOTALL)
# A bracketed address right after "=" is a value the client chose (Exim's
# ``helo=[192.0.2.1]``, ``ident=``), not the address the server saw.
_BRACKETED = re.compile(r"(?<![=\w])\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]", re.IGNORECASE)
_INNER_COMMENT = re.compile(r"\([^()]*\)")
_BY = re.compile(r"(?:^|\s)by\s+([^\s;]+)", re.IGNORECASE)
_METHOD_ORDER = ("dkim", "spf", "dmarc")
_MAX_RESULTS = 10_000  # characters; real headers are under 2,000, and authres is quadratic


@dataclass(frozen=True)
class AuthVerdict:
    """Whether a sender is authenticated, and why (a line for the logs)."""

    authenticated: bool
    reason: str


def check_sender(message: Message, from_addr: str, authserv_ids: Collection[str],
                 trusted_relays: Collection[str]) -> AuthVerdict:
    """Whether *message* provably comes from the domain of *from_addr*.

    *authserv_ids*: the ids our receiving server writes (case-insensitive);
    results with another id are ignored. A sender can add a header with our id
    below ours (RFC 8601 §5 has our server delete those, if it does), so only
    the topmost of ours are believed: every one above the topmost ``Received``
    (a sender's headers always come below the ``Received`` our server
    prepends: these were added on our side, e.g. one per milter), else only
    the first one (Gmail, or Rspamd under an LMTP ``Received``). Residual risk:
    if our server adds no header of its own and strips none, a forged one the
    sender put first is believed.

    *trusted_relays*: IP addresses or CIDR networks (a bad entry raises
    ``ValueError``; check configuration with :func:`relay_networks`). Only the
    topmost ``Received`` is read, the one our server wrote; with *authserv_ids*
    it must also say ``by`` one of them (or a host under one), as a sanity
    check. An LMTP or content-filter hop on top hides the relay.
    """
    networks = relay_networks(trusted_relays)
    domain = sender_domain(from_addr)
    if domain is None:
        return AuthVerdict(False, f"no usable domain in sender address {clip(from_addr)!r}")
    ids = tuple(dict.fromkeys(_host(i) for i in authserv_ids if _host(i)))
    headers = _raw_headers(message)
    results = _results_verdict(headers, domain, ids)
    if results.authenticated or not networks:
        return results
    relay = _relay_verdict(headers, ids, networks)
    if relay.authenticated:
        return relay
    return AuthVerdict(False, f"{results.reason}; {relay.reason}")


def relay_networks(entries: Collection[str]) -> tuple[IPNetwork, ...]:
    """*entries* (``192.0.2.10``, ``198.51.100.0/24``, ``2001:db8::/32``) as networks.

    Raises ``ValueError`` naming the first entry that is neither.
    """
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {entry!r}") from None
    return tuple(networks)


def sender_domain(address: str) -> str | None:
    """The domain of *address* (``Name <a@b>`` accepted), lower-case ASCII, or None."""
    addr = parseaddr(address)[1] if "<" in address else address.strip()
    local, at, domain = addr.rpartition("@")
    return normalise_domain(domain) if at and local else None


def normalise_domain(text: str) -> str | None:
    """*text* as a lower-case ASCII (punycode) domain name, or None when it is not one."""
    text = text.strip().strip("<>\"'").rstrip(".")
    try:
        text = text.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = text.split(".")
    if len(labels) < 2 or labels[-1].isdigit() or not all(map(_LABEL.fullmatch, labels)):
        return None
    return text


def aligned(domain: str, other: str) -> bool:
    """DMARC relaxed alignment: same organizational domain (Public Suffix List)."""
    first, second = normalise_domain(domain), normalise_domain(other)
    if first is None or second is None:
        return False
    org = _psl().privatesuffix(first)
    return org is not None and org == _psl().privatesuffix(second)


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package, read once


def _host(text: str) -> str:
    return text.strip().rstrip(".").lower()


def _raw_headers(message: Message) -> list[tuple[str, str]]:
    try:
        return [(str(k).lower(), _FOLD.sub(" ", str(v))) for k, v in message.raw_items()]
    except Exception:  # a broken message object: no header can be read
        return []


def _authserv_id(value: str) -> str | None:
    match = _AUTHSERV_ID.match(value)
    if not match or "=" in match.group(1):
        return None  # e.g. Microsoft 365, which writes no authserv-id at all
    return _host(match.group(1))


def _believed(headers: Sequence[tuple[str, str]], ids: Sequence[str]
              ) -> tuple[list[tuple[str, str]], list[str]]:
    """(authserv-id, value) of the headers to believe, and the other ids seen."""
    top_received = next((i for i, (name, _) in enumerate(headers) if name == "received"),
                        len(headers))
    ours: list[tuple[int, str, str]] = []
    others: list[str] = []
    for position, (name, value) in enumerate(headers):
        if name != "authentication-results":
            continue
        serv_id = _authserv_id(value)
        if serv_id in ids:
            ours.append((position, serv_id, value))
        else:
            others.append(clip(serv_id, 60) if serv_id else "one without authserv-id")
    above = [(sid, value) for position, sid, value in ours if position < top_received]
    return above or [(sid, value) for _, sid, value in ours[:1]], others


def _results_verdict(headers: Sequence[tuple[str, str]], domain: str,
                     ids: Sequence[str]) -> AuthVerdict:
    if not ids:
        return AuthVerdict(False, "no authserv-id configured for our receiving server")
    believed, others = _believed(headers, ids)
    if not believed:
        ignored = f" (ignored: {', '.join(dict.fromkeys(others))})" if others else ""
        return AuthVerdict(False, f"no Authentication-Results from {' or '.join(ids)}{ignored}")
    passes: list[tuple[int, str]] = []
    notes: list[str] = []
    for serv_id, value in believed:
        if len(value) > _MAX_RESULTS:
            notes.append(f"Authentication-Results from {serv_id} too long ({len(value)} chars)")
            continue
        try:
            # A stray ";" at the end is common and harmless, but authres rejects it.
            parsed = authres.AuthenticationResultsHeader.parse_value(
                value.strip().rstrip(";").rstrip())
        except Exception as exc:  # any syntax error, even a RecursionError on nested comments
            notes.append(f"malformed Authentication-Results from {serv_id}: {clip(str(exc), 60)}")
            continue
        for result in parsed.results:
            ok, text = _judge(result, domain)
            if ok:
                passes.append((_METHOD_ORDER.index(result.method.lower()), f"{text} ({serv_id})"))
            elif text:
                notes.append(f"{text} ({serv_id})")
    if passes:
        return AuthVerdict(True, min(passes)[1])
    if not notes:
        sources = " or ".join(dict.fromkeys(sid for sid, _ in believed))
        return AuthVerdict(False, f"no dkim, spf or dmarc result in Authentication-Results "
                                  f"from {sources}")
    return AuthVerdict(False, "; ".join(notes))


def _judge(result: Any, domain: str) -> tuple[bool, str]:
    """(passes, description) of one dkim/spf/dmarc result; ``(False, "")`` for others."""
    method, outcome = str(result.method).lower(), str(result.result).lower()
    if method not in _METHOD_ORDER:
        return False, ""
    if method == "dkim":
        key, values = "header.d", _prop(result, "header", "d")
        if not values and _prop(result, "header", "i"):
            key, values = "header.i", [v.rpartition("@")[2] for v in _prop(result, "header", "i")]
    elif method == "spf":
        key = "smtp.mailfrom"
        values = [v.rpartition("@")[2] for v in _prop(result, "smtp", "mailfrom")]
    else:
        key, values = "header.from", _prop(result, "header", "from")
    values = [v for v in values if v]
    shown = clip(", ".join(values), 80)
    if outcome != "pass":
        return False, f"{method}={clip(outcome, 20)}" + (f" for {shown}" if values else "")
    if not values:
        return False, f"{method}=pass without {key}"
    # dmarc's header.from is the From domain our server checked: it must be ours exactly
    if all(normalise_domain(v) == domain if method == "dmarc" else aligned(v, domain)
           for v in values):
        return True, f"{method}=pass {key}={shown} aligned with {domain}"
    return False, f"{method}=pass for {shown}, not aligned with {domain}"


def _prop(result: Any, ptype: str, name: str) -> list[str]:
    return [str(p.value).strip().strip("<>\"") for p in result.properties
            if str(p.type).lower() == ptype and str(p.name).lower() == name]


def _relay_verdict(headers: Sequence[tuple[str, str]], ids: Sequence[str],
                   networks: Sequence[IPNetwork]) -> AuthVerdict:
    received = next((value for name, value in headers if name == "received"), None)
    if received is None:
        return AuthVerdict(False, "no Received header")
    address, by_host = _parse_received(received)
    if ids and not (by_host and any(by_host == i or by_host.endswith("." + i) for i in ids)):
        return AuthVerdict(False, f"topmost Received is by {clip(by_host or '(nobody)', 60)}, "
                                  f"not {' or '.join(ids)}")
    if address is None:
        return AuthVerdict(False, "topmost Received shows no connecting IP address")
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:192.0.2.10 is 192.0.2.10
    if any(a in net for a in (address, mapped) if a is not None for net in networks):
        return AuthVerdict(True, f"came through trusted relay {address} "
                                 f"(topmost Received by {by_host or '?'})")
    return AuthVerdict(False, f"topmost Received from {address}, not a trusted relay")


def _parse_received(value: str) -> tuple[IPAddress | None, str | None]:
    """(connecting address, ``by`` host) of one ``Received`` header value.

    ``from HELO (rdns [IP])`` (Postfix, Sendmail, Gmail), ``from rdns ([IP]
    helo=HELO)`` or ``from [IP] (helo=HELO)`` (Exim). The HELO word is the
    client's choice, so it is skipped whole (it may itself look like
    ``[192.0.2.1]`` or ``x([192.0.2.1])``); the address is read from the
    comment after it, and from the first word only when that comment has none.
    """
    match = _RECEIVED_FROM.match(value)
    name, rest = match.groups() if match else ("", value)
    bare = rest
    for _ in range(10):  # innermost comments first; bounded against hostile nesting
        bare, count = _INNER_COMMENT.subn(" ", bare)
        if not count:
            break
    by_match = _BY.search(bare)
    by_host = _host(by_match.group(1)) if by_match else None
    texts = [_leading_comment(rest), name if _BRACKETED.fullmatch(name) else ""]
    for found in (f for text in texts for f in _BRACKETED.finditer(text)):
        try:
            return ipaddress.ip_address(found.group(1)), by_host
        except ValueError:
            continue
    return None, by_host


def _leading_comment(text: str) -> str:
    text = text.lstrip()
    depth = 0
    for index, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if depth <= 0:
            return text[1:index]
    return ""
