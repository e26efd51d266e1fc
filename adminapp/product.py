"""The public API for product pages: everything a product may import from
adminapp, and nothing else (docs/extending.md).

A product (a separate package, found through the ``adminapp.products``
entry point or ``ADMINAPP_BLUEPRINTS``) imports from here and from
``adminapp.testing`` (its tests); every other module of adminapp is private
and may change without notice. ``tests/unit/test_product_api.py`` holds the
example product (examples/notes) to that.

* :class:`AdminBlueprint`: the product's blueprint, with its prefix,
  navigation entry, audit events, permissions, translation catalogs and
  services factory;
* :class:`Permission`, :func:`permission_required`, :func:`self_service`:
  what a route needs;
* :func:`step_up_required`, :func:`step_up_exempt`: whether a write needs a
  fresh second factor (every write says one or the other);
* :func:`current_admin`, :func:`request_client`: who is asking, from where
  (for audit entries);
* :func:`record_access`, :class:`DataSubject`, :data:`TASKS`: the access
  record for a look at personal data (docs/pipa.md);
* :func:`services` and its types :class:`Services`, :class:`FirebaseBackend`
  and :class:`AuditTrail`: Firestore and Firebase Auth with timeouts, and
  the audit trail (``record``; ``batch`` and ``stage`` to commit an entry
  with the change);
* :func:`N_`: marks a string for translation where it is declared.
"""

from __future__ import annotations

from .domain.audit import TASKS, DataSubject
from .domain.permissions import Permission
from .firebase.audit import AuditTrail
from .firebase.backend import FirebaseBackend
from .i18n_marks import N_
from .services import Services
from .web.access_records import record_access
from .web.context import request_client, services
from .web.guard import current_admin, permission_required, self_service
from .web.products import AdminBlueprint
from .web.step_up import step_up_exempt, step_up_required

__all__ = [
    "N_",
    "TASKS",
    "AdminBlueprint",
    "AuditTrail",
    "DataSubject",
    "FirebaseBackend",
    "Permission",
    "Services",
    "current_admin",
    "permission_required",
    "record_access",
    "request_client",
    "self_service",
    "services",
    "step_up_exempt",
    "step_up_required",
]
