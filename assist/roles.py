"""The four kinds of user, with the labels people see."""

from enum import StrEnum


class Role(StrEnum):
    CITY_OFFICIAL = "city_official"
    STAFF = "staff"
    EXPERT = "expert"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Role.CITY_OFFICIAL: "City official",
    Role.STAFF: "Efus staff",
    Role.EXPERT: "Expert",
    Role.ADMIN: "Administrator",
}

#: Roles that act across every authority (read-only on requests for now).
PROGRAMME_ROLES = frozenset({Role.STAFF, Role.ADMIN})
