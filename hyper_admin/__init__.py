"""hyper_admin: an htmx admin for sqlorm models, mounted as a Flask blueprint."""

from . import audit
from .fields import converters
from .introspect import Hint
from .options import ModelAdmin, action, display
from .passwords import verify_password
from .site import Admin
from .sqlorm_compat import enable_postgresql

__version__ = "0.1.0"
__all__ = ["Admin", "ModelAdmin", "Hint", "action", "audit", "display", "converters",
           "enable_postgresql", "verify_password", "__version__"]
