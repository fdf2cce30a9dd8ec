"""The report's vocabularies, as data: body labels and value spellings.

Keys are :func:`~mailbot.reports.numbers.fold`-ed (no accents, lower case,
single spaces; ``_`` and ``-`` read as spaces for values), so ``Priorité``,
``PRIORITE`` and ``Priority`` all find the same field.
"""

from __future__ import annotations

from mailbot.reports.numbers import fold

# Body label (French or English) -> field name.
LABELS: dict[str, str] = {
    "priorite": "priority", "priority": "priority",
    "destinataire": "recipient", "recipient": "recipient",
    "niveau de detail": "detail_level", "detail level": "detail_level",
    "donnees sensibles": "sensitive_data", "sensitive data": "sensitive_data",
    "consentement au traitement": "consent", "consentement": "consent", "consent": "consent",
    "description du probleme": "description", "problem description": "description",
    "actions effectuees avant l'incident": "actions", "actions before the incident": "actions",
    "frequence": "frequency", "frequency": "frequency",
    "impact": "impact",
    "version de l'application": "app_version", "app version": "app_version",
    "systeme": "system", "system": "system",
    "memoire": "memory", "memory": "memory",
    "stockage": "storage", "storage": "storage",
    "reseau": "network", "network": "network",
}

# Fields whose value is free text that may run over several lines.
FREE_TEXT = frozenset({"description", "actions", "frequency", "impact"})

# French names of fields, for finding messages.
FIELD_NAMES: dict[str, str] = {
    "priority": "Priorité", "recipient": "Destinataire", "detail_level": "Niveau de détail",
    "sensitive_data": "Données sensibles", "consent": "Consentement au traitement",
    "description": "Description du problème", "actions": "Actions effectuées avant l'incident",
    "frequency": "Fréquence", "impact": "Impact", "app_version": "Version de l'application",
    "app_build": "Numéro de build",
    "os": "Système", "os_version": "Version du système", "network": "Réseau",
    "ram_total_mb": "Mémoire totale", "ram_free_mb": "Mémoire libre",
    "storage_total_mb": "Stockage total", "storage_free_mb": "Stockage libre",
    "sync_state": "État de la synchronisation",
}

_PRIORITY = {"normale": "normale", "normal": "normale", "importante": "importante",
             "important": "importante", "urgente": "urgente", "urgent": "urgente"}
_RECIPIENT = dict.fromkeys(("technique", "support technique", "technical support",
                            "technical", "tech support"), "technique") | dict.fromkeys(
    ("pedagogique", "support pedagogique", "teaching support", "teaching",
     "pedagogical support"), "pedagogique")
_DETAIL = {"complet": "complet", "complete": "complet", "full": "complet",
           "essentiel": "essentiel", "essential": "essentiel"}
_SENSITIVE = dict.fromkeys(("incluses", "inclues", "included", "include"), "incluses") | \
    dict.fromkeys(("exclues", "excluded", "exclude"), "exclues")
_CONSENT = dict.fromkeys(("oui", "yes", "true", "1", "accepte", "accepted"), True) | \
    dict.fromkeys(("non", "no", "false", "0", "refuse", "refused"), False)
_NETWORK = dict.fromkeys(("wifi", "wi fi", "wlan"), "wifi") | dict.fromkeys(
    ("cellulaire", "cellular", "mobile", "donnees mobiles", "mobile data", "3g", "4g", "5g",
     "lte"), "cellulaire") | dict.fromkeys(("ethernet", "filaire", "wired"), "ethernet") | \
    dict.fromkeys(("hors ligne", "offline", "aucun", "none", "no network", "deconnecte"),
                  "hors_ligne")
_SYNC = dict.fromkeys(("ok", "reussie", "success", "synced"), "ok") | dict.fromkeys(
    ("en cours", "in progress", "syncing", "running"), "en_cours") | dict.fromkeys(
    ("bloquee", "bloque", "blocked", "stuck"), "bloquee") | dict.fromkeys(
    ("erreur", "error", "failed", "echec"), "erreur") | dict.fromkeys(("jamais", "never"),
                                                                     "jamais")

VOCABULARIES: dict[str, dict[str, str] | dict[str, bool]] = {
    "priority": _PRIORITY, "recipient": _RECIPIENT, "detail_level": _DETAIL,
    "sensitive_data": _SENSITIVE, "consent": _CONSENT, "network": _NETWORK,
    "sync_state": _SYNC,
}

# Canonical operating-system spellings.
OS_NAMES = {"ipados": "iPadOS", "ios": "iOS", "android": "Android", "windows": "Windows",
            "macos": "macOS", "mac os": "macOS", "chromeos": "ChromeOS",
            "chrome os": "ChromeOS", "linux": "Linux"}


def value_key(text: str) -> str:
    """Fold a value to look it up: ``Wi-Fi`` -> ``wi fi``, ``hors_ligne`` -> ``hors ligne``."""
    return fold(text.replace("_", " ").replace("-", " ")).strip(" .;,")


def normalise(field: str, value: object) -> str | bool | None:
    """*value* in the diagnostic.json vocabulary of *field*, or ``None`` if unknown.

    Booleans pass through for ``consent``; text is looked up whole, then without a
    parenthesised tail (``wifi (école)``).
    """
    vocabulary = VOCABULARIES[field]
    if isinstance(value, bool):
        return value if field == "consent" else None
    if not isinstance(value, str):
        return None
    key = value_key(value)
    if key in vocabulary:
        return vocabulary[key]
    head = value_key(value.split("(", 1)[0])
    return vocabulary.get(head)


def os_name(text: str) -> str:
    """Canonical spelling of an OS name (``ipados`` -> ``iPadOS``), else as written."""
    return OS_NAMES.get(fold(text), text.strip())
