"""Placement as a pure function: capacity, allocations, offline and revoked nodes, a named node, ties."""

from __future__ import annotations

import uuid

from nubes.compute.nodes.scheduler import Candidate, Choice, Refusal, Request, choose


def node(name: str, *, status: str = "online", free: int = 2, **fields: int) -> Candidate:
    """A candidate with 200% CPU, 1 GiB memory, 10 GiB disk and `free` free allocations unless told otherwise."""
    capacity = {"cpu": 200, "memory_mb": 1024, "disk_mb": 10240} | fields
    return Candidate(
        id=uuid.uuid4(),
        name=name,
        status=status,
        free_allocations=[uuid.uuid4() for _ in range(free)],
        **capacity,
    )


SMALL = Request(cpu=50, memory_mb=256, disk_mb=1024)


def chosen(result: Choice | Refusal) -> Choice:
    assert isinstance(result, Choice), result
    return result


def refused(result: Choice | Refusal) -> str:
    assert isinstance(result, Refusal), result
    return result.reason


def test_a_node_with_room_takes_the_container_and_its_first_free_allocations() -> None:
    only = node("a", free=3)
    choice = chosen(choose([only], Request(cpu=50, memory_mb=256, disk_mb=1024, allocations=2)))
    assert choice.node is only
    assert choice.allocations == tuple(only.free_allocations[:2])


def test_no_candidates_means_no_usable_node() -> None:
    assert refused(choose([], SMALL)) == "This cluster has no usable node; an administrator must add and register one."


def test_capacity_counts_what_containers_reserve_and_names_what_is_short() -> None:
    busy = node("busy", used_cpu=180, used_memory_mb=1000)
    reason = refused(choose([busy], SMALL))
    assert reason == (
        "No node of this cluster can take the container; short of "
        "busy: CPU (needs 50%, 20% free), memory (needs 256 MiB, 24 MiB free)."
    )


def test_overallocation_raises_capacity() -> None:
    """GIVEN a full node that may overallocate by 50% WHEN a container asks for room THEN it fits."""
    full = node("full", used_cpu=200, used_memory_mb=1024, used_disk_mb=10240, overallocate_percent=50)
    assert chosen(choose([full], SMALL)).node is full


def test_free_memory_is_never_shown_below_zero() -> None:
    over = node("over", used_memory_mb=2000)
    assert "memory (needs 256 MiB, 0 MiB free)" in refused(choose([over], SMALL))


def test_allocations_must_be_free() -> None:
    assert refused(choose([node("a", free=0)], SMALL)).endswith("a: a free allocation (ip:port).")
    reason = refused(choose([node("a", free=1)], Request(cpu=1, memory_mb=1, disk_mb=1, allocations=3)))
    assert reason.endswith("a: 3 free allocations (1 free).")


def test_a_node_without_allocations_gives_way_to_one_with_them() -> None:
    roomy, ported = node("roomy", free=0, memory_mb=8192), node("ported", free=1)
    assert chosen(choose([roomy, ported], SMALL)).node is ported


def test_shortages_are_listed_per_node_in_the_order_given() -> None:
    reason = refused(choose([node("b", free=0), node("a", cpu=10)], SMALL))
    assert reason.endswith("short of b: a free allocation (ip:port); a: CPU (needs 50%, 10% free).")


def test_online_nodes_come_before_offline_and_pending_ones() -> None:
    offline = node("a-offline", status="offline", memory_mb=8192)
    pending = node("b-pending", status="pending", memory_mb=8192)
    online = node("c-online")
    assert chosen(choose([offline, pending, online], SMALL)).node is online
    assert chosen(choose([offline], SMALL)).node is offline  # an offline node still takes it when it is the only one


def test_revoked_nodes_never_take_a_container() -> None:
    revoked = node("revoked", status="revoked")
    assert refused(choose([revoked], SMALL)).startswith("This cluster has no usable node")
    online = node("online")
    assert chosen(choose([revoked, online], SMALL)).node is online


def test_the_node_with_most_free_memory_wins_then_the_name_breaks_ties() -> None:
    small, large = node("a", memory_mb=1024), node("b", memory_mb=4096)
    assert chosen(choose([small, large], SMALL)).node is large
    first, second = node("m"), node("k")
    assert chosen(choose([first, second], SMALL)).node is second  # equal: "k" before "m", whatever the order given
    assert chosen(choose([second, first], SMALL)).node is second


def test_a_named_node_is_the_only_candidate() -> None:
    best, named = node("best", memory_mb=8192), node("named")
    assert chosen(choose([best, named], Request(cpu=50, memory_mb=256, disk_mb=1024, node_id=named.id))).node is named
    tiny = node("tiny", cpu=10)
    reason = refused(choose([best, tiny], Request(cpu=50, memory_mb=256, disk_mb=1024, node_id=tiny.id)))
    assert reason.endswith("short of tiny: CPU (needs 50%, 10% free).")


def test_chosen_allocations_pick_their_node_and_are_given_exactly() -> None:
    best, holder = node("best", memory_mb=8192), node("holder", free=3)
    wanted = (holder.free_allocations[2], holder.free_allocations[0])
    choice = chosen(choose([best, holder], Request(cpu=50, memory_mb=256, disk_mb=1024, allocations=5, chosen=wanted)))
    assert choice.node is holder
    assert choice.allocations == wanted  # the count is ignored: exactly these


def test_chosen_allocations_still_need_room() -> None:
    holder = node("holder", cpu=10)
    request = Request(cpu=50, memory_mb=256, disk_mb=1024, chosen=(holder.free_allocations[0],))
    assert refused(choose([holder], request)).endswith("short of holder: CPU (needs 50%, 10% free).")
