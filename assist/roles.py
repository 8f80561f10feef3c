"""The four kinds of user, with the labels people see."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Role(StrEnum):
    CITY_OFFICIAL = "city_official"
    STAFF = "staff"
    EXPERT = "expert"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(_LABELS[self])


_LABELS = {
    Role.CITY_OFFICIAL: _l("City official"),
    Role.STAFF: _l("Efus staff"),
    Role.EXPERT: _l("Expert"),
    Role.ADMIN: _l("Administrator"),
}

#: Roles that act across every authority (read-only on requests for now).
PROGRAMME_ROLES = frozenset({Role.STAFF, Role.ADMIN})
