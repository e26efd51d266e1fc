"""Flask extensions, created once here and bound to the app in ``create_app``."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
# Keyed by client IP; ProxyFix (TRUSTED_PROXY_COUNT) makes that the real one
# behind a load balancer. Storage comes from RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=get_remote_address)
