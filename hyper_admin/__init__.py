"""hyper_admin: an htmx admin for sqlorm models, mounted as a Flask blueprint."""

from .options import ModelAdmin
from .site import Admin
from .sqlorm_compat import enable_postgresql

__version__ = "0.1.0"
__all__ = ["Admin", "ModelAdmin", "enable_postgresql", "__version__"]
