"""Residents' personal data as others see it: masking and erasure markers.

Pure functions (no database, no settings), shared by the ``Registration`` model,
the sign-up service, the staff views and exports. Staff without the permission
查看报名人姓名和手机号 see ``王**`` / ``138****1234``; audit entries carry a masked
phone at most, and search terms masked (``mask_search_term``). Once a sign-up's
personal data goes, its audit entries keep only ``scrub_log_data``'s facts.
"""

import re

ERASED_NAME = "（已删除）"  # the name of a sign-up whose personal data was erased


def mask_phone(phone: str) -> str:
    """138****1234 (``***`` for anything that is not 11 characters)."""
    if len(phone or "") != 11:
        return "***"
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str) -> str:
    """张* / 欧阳** : the family name's first character only."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def is_erased(name: str, phone: str) -> bool:
    """The resident's personal data was removed (by them, or on expiry)."""
    return name == ERASED_NAME and not phone


def masked_phone(phone: str) -> str:
    """The phone as shown without the permission; "" when there is none."""
    return mask_phone(phone) if phone else ""


def masked_name(name: str, phone: str) -> str:
    """The name as shown without the permission. Nothing is left to mask once
    erased ("（****" would only puzzle staff)."""
    return name if is_erased(name, phone) else mask_name(name)


def display_name(registration, personal: bool) -> str:
    """The full name for staff who may see it (``personal``), else masked."""
    return registration.name if personal else registration.masked_name


def display_phone(registration, personal: bool) -> str:
    """The full phone for staff who may see it (``personal``), else masked."""
    return registration.phone if personal else registration.masked_phone


# ---------------------------------------------------------------------------
# The audit log: what staff typed, and entries of sign-ups whose data went
# ---------------------------------------------------------------------------

# Digits as typed into a search box: "137 1234 0001", "137-1234-0001", "+86 137…".
_DIGITS = re.compile(r"\d(?:[\s\-–—.()（）]*\d)+")
_WORD = re.compile(r"[^\W\d_]+")
SEARCH_DIGITS_KEPT = 4  # "0001": the last four digits staff check people in by


def _mask_digits(digits: str) -> str:
    if len(digits) >= 11:  # a phone (with or without +86): 138****1234
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return digits[:3] + "*" * (len(digits) - 3)


def mask_search_term(term: str) -> str:
    """What staff typed into a search, as the audit log keeps it: a run of more
    than four digits masked like a phone ("13712340001" → ``137****0001``,
    "1371234" → ``137****``), every word reduced to its first character
    ("郭振华" → ``郭**``, a code "HRPDGJ" → ``H*****``). Four digits or fewer (the
    last four of a phone, as typed at the door) stay."""
    text = " ".join((term or "").split())

    def digits(match: re.Match) -> str:
        found = re.sub(r"\D", "", match.group())
        return found if len(found) <= SEARCH_DIGITS_KEPT else _mask_digits(found)

    text = _DIGITS.sub(digits, text)
    return _WORD.sub(lambda match: mask_name(match.group()), text)


# Filters of 报名管理 whose values are ids, choices or dates; anything else (the
# search box ``q``, a parameter we do not know) is kept masked.
PLAIN_FILTERS = frozenset(
    {"page", "occurrence", "status", "checked_in", "date", "ordering", "p"}
)


def mask_filters(params) -> dict:
    """A listing's query parameters as an audit entry keeps them."""
    return {
        key: value
        if key in PLAIN_FILTERS or not isinstance(value, str)
        else mask_search_term(value)
        for key, value in params.items()
    }


SCRUBBED_LABEL = "报名（个人信息已删除）"
# What an audit entry of a sign-up keeps once its personal data is gone: where
# and when, how many people, its state — no code, name or phone.
SCRUBBED_KEEPS = (
    "page_id",
    "page_title",
    "occurrence_id",
    "occurrence_start",
    "party_size",
    "status",
    "erased",
)


def scrub_log_data(data: dict) -> dict:
    """The data of a sign-up's audit entry without codes: the facts in
    ``SCRUBBED_KEEPS``, how many were promoted and whether a cancellation freed
    the seat (the codes of both dropped), and ``scrubbed``."""
    data = data if isinstance(data, dict) else {}
    kept = {key: data[key] for key in SCRUBBED_KEEPS if key in data}
    promoted = data.get("promoted")
    if isinstance(promoted, list):
        kept["promoted_count"] = len(promoted)
    elif "promoted_count" in data:
        kept["promoted_count"] = data["promoted_count"]
    if data.get("freed_by") or data.get("freed_by_cancel"):
        kept["freed_by_cancel"] = True
    kept["scrubbed"] = True
    return kept
