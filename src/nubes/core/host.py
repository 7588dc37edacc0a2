"""This machine's figures (CPU, memory, disk per real mount, network, load), read with psutil: what a Nubes replica
stores about itself and what an agent reports about its node."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import psutil

PSEUDO_FILESYSTEMS = frozenset(
    {"tmpfs", "devtmpfs", "overlay", "squashfs", "proc", "sysfs", "cgroup", "cgroup2", "devpts", "nsfs", "autofs"}
)
"""Mounts that hold no data of their own (left out of the disk figures)."""

MAX_MOUNTS = 20
"""Mounts reported per host."""


@dataclass(frozen=True, slots=True)
class Disk:
    """One mounted filesystem's size and use."""

    mount: str
    used_bytes: int
    total_bytes: int


@dataclass(frozen=True, slots=True)
class HostReading:
    """One reading of the host; network bytes are totals since boot."""

    cpu_percent: float
    memory_used_bytes: int
    memory_total_bytes: int
    load1: float
    network_rx_bytes: int
    network_tx_bytes: int
    disks: list[Disk] = field(default_factory=list)


def start_cpu_measure() -> None:
    """Start measuring CPU use: the next `read()` reports the use since this call (psutil's first reading is 0)."""
    psutil.cpu_percent(interval=None)


def read() -> HostReading:
    """The host's figures now; blocking (a stalled network mount can hang a `statvfs`): run it in a thread."""
    memory = psutil.virtual_memory()
    disks: list[Disk] = []
    seen: set[str] = set()
    for partition in psutil.disk_partitions(all=False):
        if partition.fstype in PSEUDO_FILESYSTEMS or partition.device in seen or len(seen) >= MAX_MOUNTS:
            continue
        seen.add(partition.device)
        try:
            usage = psutil.disk_usage(partition.mountpoint)
        except OSError:
            continue
        disks.append(Disk(mount=partition.mountpoint[:200], used_bytes=usage.used, total_bytes=usage.total))
    network = psutil.net_io_counters(pernic=False)
    return HostReading(
        cpu_percent=psutil.cpu_percent(interval=None),
        memory_used_bytes=memory.total - memory.available,
        memory_total_bytes=memory.total,
        load1=os.getloadavg()[0],
        network_rx_bytes=network.bytes_recv if network else 0,
        network_tx_bytes=network.bytes_sent if network else 0,
        disks=disks,
    )
