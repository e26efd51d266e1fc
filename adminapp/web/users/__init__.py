"""The users console: the product's Firebase Auth accounts, behind the gate.

Shipped with adminapp and mounted like any product's blueprints (see
adminapp/web/products.py), unless USERS_CONSOLE=false: the pages at
/admin/users and the JSON API at /admin/api/users. The rules are in
adminapp/services/users.py; these views only translate requests.
"""

from flask_babel import lazy_gettext as _l

from ..actor import acting_admin
from ..products import AdminBlueprint

# Which users-console actions need a fresh proof: a service rule
# (services/users.py), because it depends on the account acted on.
USERS_CONSOLE_RULE = (
    "actions whose permission is declared step_up (users.claims, users.delete) and any "
    "action on an account that is an admin here need a fresh proof (UsersConsole._allowed)"
)

bp = AdminBlueprint("users", __name__, prefix="users", nav=(_l("Users"), "index"))
api_bp = AdminBlueprint("users_api", __name__, prefix="api/users", api=True)
blueprints = (bp, api_bp)

__all__ = ["USERS_CONSOLE_RULE", "acting_admin", "api_bp", "blueprints", "bp"]

from . import api, pages  # noqa: E402,F401  (register views)
