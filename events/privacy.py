"""Residents' personal data as others see it: masking and erasure markers.

Pure functions (no database, no settings), shared by the ``Registration`` model,
the sign-up service, the staff views and exports. Staff without the permission
查看报名人姓名和手机号 see ``王**`` / ``138****1234``; audit entries carry a masked
phone at most.
"""

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
