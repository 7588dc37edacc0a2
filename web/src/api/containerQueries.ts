/** Query hooks of the container platform (clusters, nodes, eggs, containers, jobs, container files) and the mutations that change them. */
import { useMutation, useQuery } from "@tanstack/react-query";

import { listContainerFiles } from "./containerFiles";
import {
  createCluster,
  deleteEgg,
  deleteEggCategory,
  getContainer,
  getNode,
  listAllocations,
  listClusters,
  listContainers,
  listEggCategories,
  listEggs,
  listJobs,
  listNodes,
  revokeNode,
} from "./containers";
import { asApiError, useInvalidate } from "./queryClient";
import { containerKeys } from "./queryKeys";

export function useClusters() {
  return useQuery({ queryKey: containerKeys.clusters, queryFn: ({ signal }) => asApiError(listClusters(signal)) });
}

/** Every node (none are asked for when `enabled` is false); `refetchInterval` (ms) keeps heartbeats and capacity fresh on the Nodes page. */
export function useNodes(refetchInterval?: number, enabled = true) {
  return useQuery({ queryKey: containerKeys.nodes, queryFn: ({ signal }) => asApiError(listNodes(signal)), refetchInterval, enabled });
}

export function useNode(nodeId: string) {
  return useQuery({ queryKey: containerKeys.node(nodeId), queryFn: ({ signal }) => asApiError(getNode(nodeId, signal)) });
}

export function useAllocations(nodeId: string) {
  return useQuery({ queryKey: containerKeys.allocations(nodeId), queryFn: ({ signal }) => asApiError(listAllocations(nodeId, signal)) });
}

export function useEggs() {
  return useQuery({ queryKey: containerKeys.eggs, queryFn: ({ signal }) => asApiError(listEggs(signal)) });
}

export function useEggCategories() {
  return useQuery({ queryKey: containerKeys.eggCategories, queryFn: ({ signal }) => asApiError(listEggCategories(signal)) });
}

/** The containers the user may see, refetched every `refetchInterval` ms so states stay current. */
export function useContainers(refetchInterval: number) {
  return useQuery({ queryKey: containerKeys.instances, queryFn: ({ signal }) => asApiError(listContainers(signal)), refetchInterval });
}

export function useContainer(containerId: string, refetchInterval: number) {
  return useQuery({ queryKey: containerKeys.instance(containerId), queryFn: ({ signal }) => asApiError(getContainer(containerId, signal)), refetchInterval });
}

export function useJobs(containerId: string, refetchInterval: number) {
  return useQuery({ queryKey: containerKeys.jobs(containerId), queryFn: ({ signal }) => asApiError(listJobs(containerId, signal)), refetchInterval });
}

/** One folder of a container's volume. */
export function useContainerFiles(containerId: string, path: string) {
  return useQuery({ queryKey: containerKeys.files(containerId, path), queryFn: ({ signal }) => asApiError(listContainerFiles(containerId, path, signal)) });
}

export function useCreateCluster() {
  const invalidate = useInvalidate();
  return useMutation({ mutationFn: (body: Parameters<typeof createCluster>[0]) => asApiError(createCluster(body)), onSuccess: () => invalidate(containerKeys.clusters) });
}

export function useRevokeNode() {
  const invalidate = useInvalidate();
  return useMutation({ mutationFn: (id: string) => asApiError(revokeNode(id)), onSuccess: () => invalidate(containerKeys.nodes) });
}

export function useDeleteEgg() {
  const invalidate = useInvalidate();
  return useMutation({ mutationFn: (id: string) => asApiError(deleteEgg(id)), onSuccess: () => invalidate(containerKeys.eggs, containerKeys.eggCategories) });
}

export function useDeleteEggCategory() {
  const invalidate = useInvalidate();
  return useMutation({ mutationFn: (id: string) => asApiError(deleteEggCategory(id)), onSuccess: () => invalidate(containerKeys.eggs, containerKeys.eggCategories) });
}
