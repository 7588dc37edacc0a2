"""The circuit breaker: a service that stops answering is left alone for a while instead of being waited on.

Per service and per process. After `THRESHOLD` consecutive failures to connect (refused, timed out) the circuit
opens: requests get a 503 at once for `COOL_DOWN_S` seconds. Then one request goes through as a probe
(half-open): its success closes the circuit, its failure opens it again for another `COOL_DOWN_S`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from nubes.apps.gateway.exceptions import ServiceDown

THRESHOLD = 5
COOL_DOWN_S = 30.0


@dataclass(slots=True)
class Circuit:
    """One service's circuit: consecutive failures, and when it opened (monotonic, and wall time for people)."""

    failures: int = 0
    opened_at: float | None = None
    opened_wall: datetime | None = None
    probing: bool = False


class Breakers:
    """Every service's circuit in this process."""

    def __init__(self, *, threshold: int = THRESHOLD, cool_down: float = COOL_DOWN_S) -> None:
        self.threshold = threshold
        self.cool_down = cool_down
        self._circuits: dict[uuid.UUID, Circuit] = {}

    def admit(self, service_id: uuid.UUID, name: str) -> bool:
        """Let a request through, or raise `ServiceDown` while the circuit is open; True when it is the probe that
        may close it again (once the circuit cooled down, one request at a time)."""
        circuit = self._circuits.get(service_id)
        if circuit is None or circuit.opened_at is None:
            return False
        waited = time.monotonic() - circuit.opened_at
        if waited >= self.cool_down and not circuit.probing:
            circuit.probing = True
            return True
        retry_after = max(1, round(self.cool_down - waited))
        raise ServiceDown.marked_down(name, circuit.opened_wall, retry_after=retry_after)

    def succeeded(self, service_id: uuid.UUID) -> None:
        """The service answered: the circuit closes."""
        self._circuits.pop(service_id, None)

    def failed(self, service_id: uuid.UUID) -> None:
        """The service could not be reached: one more failure; the circuit opens at the threshold (or a failed probe)."""
        circuit = self._circuits.setdefault(service_id, Circuit())
        circuit.failures += 1
        if circuit.probing or (circuit.opened_at is None and circuit.failures >= self.threshold):
            circuit.opened_at = time.monotonic()
            circuit.opened_wall = datetime.now(UTC)
            circuit.probing = False

    def released(self, service_id: uuid.UUID) -> None:
        """The probe ended without a verdict (the client left first): the next request probes."""
        circuit = self._circuits.get(service_id)
        if circuit is not None:
            circuit.probing = False

    def is_open(self, service_id: uuid.UUID) -> bool:
        """Whether requests to the service are being refused now."""
        circuit = self._circuits.get(service_id)
        return circuit is not None and circuit.opened_at is not None
