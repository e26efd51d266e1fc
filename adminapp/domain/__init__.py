"""What adminapp is about, apart from where it is stored or shown: the roles
and the permissions they hold. Nothing here imports Flask, Firebase or the
web layer (tests/unit/test_permissions.py checks it), so the services, the
storage layer, the views and the CLI can all read the one declaration."""
