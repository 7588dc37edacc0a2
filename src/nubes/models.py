"""Every domain's tables, imported in one place so migrations see the whole schema."""

from nubes.core.db import Base
from nubes.ops.models import SystemSetting

__all__ = ["Base", "SystemSetting"]
