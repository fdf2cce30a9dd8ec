"""The label block of a test report's body, French or English (see :func:`body_block`).

Re-exported by :mod:`tests.reportmail`.
"""

from __future__ import annotations

from typing import Any

# (French label, English label) of the body block, in the app's order.
_LABELS = {
    "priority": ("Priorité", "Priority"), "recipient": ("Destinataire", "Recipient"),
    "detail": ("Niveau de détail", "Detail level"),
    "sensitive": ("Données sensibles", "Sensitive data"),
    "consent": ("Consentement au traitement", "Consent"),
    "description": ("Description du problème", "Problem description"),
    "actions": ("Actions effectuées avant l'incident", "Actions before the incident"),
    "frequency": ("Fréquence", "Frequency"), "impact": ("Impact", "Impact"),
    "version": ("Version de l'application", "App version"), "system": ("Système", "System"),
    "memory": ("Mémoire", "Memory"), "storage": ("Stockage", "Storage"),
    "network": ("Réseau", "Network"),
}
_ENGLISH_VALUES = {
    "normale": "normal", "importante": "important", "urgente": "urgent",
    "technique": "technical support", "pedagogique": "teaching support",
    "complet": "full", "essentiel": "essential", "incluses": "included", "exclues": "excluded",
    "wifi": "wifi", "cellulaire": "cellular", "ethernet": "ethernet", "hors_ligne": "offline",
}


def french_size(mb: int, english: bool = False) -> str:
    """``3072`` -> ``3 Go``; ``1228`` -> ``1,2 Go``; ``412`` -> ``412 Mo`` (or GB/MB)."""
    if mb >= 1024:
        text, unit = f"{mb / 1024:.1f}".removesuffix(".0"), "GB" if english else "Go"
    else:
        text, unit = str(mb), "MB" if english else "Mo"
    return f"{text if english else text.replace('.', ',')} {unit}"


def body_block(doc: dict[str, Any], *, english: bool = False, colon: str = "\u202f:",
               overrides: dict[str, str] | None = None) -> str:
    """The body's label block for *doc* (French labels, NNBSP before ':' by default)."""
    request, device = doc["request"], doc["device"]
    consent = "yes" if request["consent"] else "no"
    if not english:
        consent = "oui" if request["consent"] else "non"
    recipient = {"technique": "support technique", "pedagogique": "support pédagogique"}
    values = {
        "priority": request["priority"], "recipient": recipient[request["recipient"]],
        "detail": request["detail_level"], "sensitive": request["sensitive_data"],
        "consent": consent, "description": doc["user_context"]["description"],
        "actions": doc["user_context"]["actions"],
        "frequency": doc["user_context"]["frequency"], "impact": doc["user_context"]["impact"],
        "version": f"{doc['app']['version']} (build {doc['app']['build']})",
        "system": f"{device['os']} {device['os_version']}",
        "memory": f"{french_size(device['ram_total_mb'], english)} "
                  f"({'free' if english else 'libre'}{colon} "
                  f"{french_size(device['ram_free_mb'], english)})",
        "storage": f"{french_size(device['storage_total_mb'], english)} "
                   f"({'free' if english else 'libre'}{colon} "
                   f"{french_size(device['storage_free_mb'], english)})",
        "network": doc["network"]["state"],
    }
    if english:
        values = {k: _ENGLISH_VALUES.get(v, v) if k in ("priority", "detail", "sensitive",
                                                        "network") else v
                  for k, v in values.items()}
        values["recipient"] = _ENGLISH_VALUES[request["recipient"]]
        colon = ":"
    values.update(overrides or {})

    def line(key: str) -> str:
        return f"{_LABELS[key][1 if english else 0]}{colon} {values[key]}"

    def block(key: str) -> str:
        return f"{_LABELS[key][1 if english else 0]}{colon}\n{values[key]}"

    title = "e-carnet support request" if english else "Demande d'assistance e-carnet"
    return "\n".join([
        title, "", line("priority"), line("recipient"), line("detail"), line("sensitive"),
        line("consent"), "", block("description"), "", block("actions"), "",
        line("frequency"), line("impact"), "", line("version"), line("system"),
        line("memory"), line("storage"), line("network"), ""])
