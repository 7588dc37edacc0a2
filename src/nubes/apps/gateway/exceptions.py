"""The gateway's errors: a service that is down, unreachable, too slow, or sent something that cannot be passed on."""

from __future__ import annotations

from datetime import datetime

from nubes.core.errors import NubesError, ServiceUnavailable


class ServiceDown(ServiceUnavailable):
    """The service is marked down (by health checks, or by the circuit breaker after failed connections)."""

    @classmethod
    def marked_down(cls, name: str, since: datetime | None, *, retry_after: int) -> ServiceDown:
        """The 503 for `name`, saying since when and when to try again."""
        when = f" at {since.strftime('%H:%M:%S')} UTC" if since is not None else ""
        return cls(
            f"{name} is not answering; it was marked down{when}. Try again later.",
            headers={"Retry-After": str(retry_after)},
        )


class BadGateway(NubesError):
    """The service could not be reached, or broke off its answer."""

    status, code, title = 502, "bad-gateway", "The app did not answer properly"


class GatewayTimeout(NubesError):
    """The service took longer than its timeout to answer."""

    status, code, title = 504, "gateway-timeout", "The app took too long to answer"
