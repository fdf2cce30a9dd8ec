"""The diagnosis of an assistance report, in readable French, for the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PRIORITY = {"normale": "normale", "importante": "importante", "urgente": "URGENTE"}
RECIPIENT = {"technique": "support technique", "pedagogique": "support pédagogique"}
NETWORK = {"wifi": "wifi", "cellulaire": "réseau mobile", "ethernet": "filaire",
           "hors_ligne": "hors ligne"}
SYNC = {"ok": "à jour", "en_cours": "en cours", "bloquee": "bloquée", "erreur": "en erreur",
        "jamais": "jamais synchronisé"}
USER_CONTEXT = (("description", "Description"), ("actions", "Actions avant l'incident"),
                ("frequency", "Fréquence"), ("impact", "Impact"))


def french_number(value: float, decimals: int = 1) -> str:
    """``1228.5`` -> ``1 228,5`` (French grouping and decimal comma)."""
    text = f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return text.removesuffix(",0") if decimals == 1 else text


def size_mb(megabytes: float | None) -> str:
    """A size given in megabytes, in Mo or Go."""
    if megabytes is None:
        return "?"
    if megabytes >= 1024:
        return f"{french_number(megabytes / 1024)} Go"
    return f"{french_number(megabytes, 0)} Mo"


def size_bytes(count: int | None) -> str:
    """A size in bytes, in Mo or Go."""
    return "?" if count is None else size_mb(count / (1024 * 1024))


def _free_of(free: float | None, total: float | None) -> str:
    if free is None and total is None:
        return "inconnu"
    return f"{size_mb(free)} libres sur {size_mb(total)}"


def diagnosis_lines(data: dict[str, Any]) -> list[str]:
    """The report's key facts, one per line, in French."""
    def value(key: str, names: dict[str, str] | None = None) -> str:
        raw = data.get(key)
        if raw is None or raw == "":
            return "inconnu"
        return names.get(raw, str(raw)) if names else str(raw)

    lines = [
        f"Application : e-carnet {value('app_version')} — {value('os')} {value('os_version')}",
        f"Priorité : {value('priority', PRIORITY)} — pour le {value('recipient', RECIPIENT)}",
        f"Mémoire : {_free_of(data.get('ram_free_mb'), data.get('ram_total_mb'))}",
        f"Stockage : {_free_of(data.get('storage_free_mb'), data.get('storage_total_mb'))}",
        f"Réseau : {value('network', NETWORK)}",
        f"Synchronisation : {value('sync_state', SYNC)}{_since(data.get('hours_since_sync'))}",
        f"Erreurs (24 h) : {_errors(data.get('error_codes') or {})}",
        f"Élèves : {_students(data)}",
        f"Médias : {_media(data.get('media'))}",
    ]
    if data.get("lists_dropped"):
        lines.append("Listes d'élèves et de médias : non lues (consentement refusé)")
    return lines


def _since(hours: float | None) -> str:
    if hours is None:
        return ""
    if hours < 48:
        return f", dernière réussite il y a {french_number(hours, 0)} h"
    return f", dernière réussite il y a {french_number(hours / 24, 0)} jours"


def _errors(codes: dict[str, int]) -> str:
    if not codes:
        return "aucune"
    ranked = sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{code} × {count}" for code, count in ranked)


def _students(data: dict[str, Any]) -> str:
    total = data.get("students_total")
    if total is None:
        return "inconnu"
    active, inactive = data.get("students_active"), data.get("students_inactive")
    if active is None:
        return str(total)
    return f"{total} ({_plural(active, 'actif')}, {_plural(inactive, 'inactif')})"


def _plural(count: int | None, word: str) -> str:
    return f"{count} {word}{'s' if (count or 0) > 1 else ''}"


def _media(media: dict[str, int] | None) -> str:
    if not media:
        return "inconnu"
    return (f"{media.get('photos', 0)} photos, {media.get('videos', 0)} vidéos, "
            f"{media.get('documents', 0)} documents — {size_bytes(media.get('bytes'))}")


def user_context_lines(data: dict[str, Any]) -> list[str]:
    """What the teacher wrote in the app's form."""
    context = data.get("user_context") or {}
    return [f"{label} : {context[key]}" for key, label in USER_CONTEXT if context.get(key)]


def findings_lines(findings: Sequence[dict[str, Any]]) -> list[str]:
    """One bullet per finding, with where it was found."""
    if not findings:
        return ["  aucune incohérence détectée"]
    return [f"  - {f['message'].rstrip('.')} — {f['where']}." if f.get("where")
            else f"  - {f['message']}" for f in findings]


def report_block(data: dict[str, Any]) -> str:
    """The whole diagnosis block of `mailbot tickets show`."""
    lines = ["Diagnostic (rapport d'assistance e-carnet"
             + (f" {data['report_id']}" if data.get("report_id") else "") + ") :"]
    lines += [f"  {line}" for line in diagnosis_lines(data)]
    context = user_context_lines(data)
    if context:
        lines += ["", "Ce que l'enseignant a saisi :", *(f"  {line}" for line in context)]
    lines += ["", "Constats :", *findings_lines(data.get("findings") or [])]
    return "\n".join(lines)
