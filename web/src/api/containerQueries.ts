/** Query hooks of the container platform (clusters, nodes, eggs, containers, jobs, container files) and the mutations that change them. */
import { useMutation, useQuery } from "@tanstack/react-query";

import { listContainerFiles } from "./containerFiles";
import {
  createCluster,
  deleteEgg,
  deleteEggCategory,
  getContainer,
  getJob,
  getNode,
  listAllocations,
  listClusters,
  listContainers,
  listEggCategories,
  listEggs,
  listJobs,
  listNodes,
  revokeNode,
  type Container,
  type Job,
} from "./containers";
import { asApiError, useInvalidate } from "./queryClient";
import { containerKeys } from "./queryKeys";

export function useClusters() {
  return useQuery({ queryKey: containerKeys.clusters, queryFn: () => asApiError(listClusters()) });
}

/** Every node (none are asked for when `enabled` is false); `refetchInterval` (ms) keeps heartbeats and capacity fresh on the Nodes page. */
export function useNodes(refetchInterval?: number, enabled = true) {
  return useQuery({ queryKey: containerKeys.nodes, queryFn: () => asApiError(listNodes()), refetchInterval, enabled });
}

export function useNode(nodeId: string) {
  return useQuery({ queryKey: containerKeys.node(nodeId), queryFn: () => asApiError(getNode(nodeId)) });
}

export function useAllocations(nodeId: string) {
  return useQuery({ queryKey: containerKeys.allocations(nodeId), queryFn: () => asApiError(listAllocations(nodeId)) });
}

export function useEggs() {
  return useQuery({ queryKey: containerKeys.eggs, queryFn: () => asApiError(listEggs()) });
}

export function useEggCategories() {
  return useQuery({ queryKey: containerKeys.eggCategories, queryFn: () => asApiError(listEggCategories()) });
}

/** The containers the user may see, refetched every `refetchInterval` ms so states stay current. */
export function useContainers(refetchInterval: number) {
  return useQuery({ queryKey: containerKeys.instances, queryFn: () => asApiError(listContainers()), refetchInterval });
}

export function useContainer(containerId: string, refetchInterval: number) {
  return useQuery({ queryKey: containerKeys.instance(containerId), queryFn: () => asApiError(getContainer(containerId)), refetchInterval });
}

/** One job, starting from what the server already answered (`initial`), polled every `everyMs` until it has ended. */
export function useJob(initial: Job, everyMs: number) {
  return useQuery({
    queryKey: containerKeys.job(initial.id),
    queryFn: () => asApiError(getJob(initial.id)),
    initialData: initial,
    refetchInterval: (query) => (query.state.data !== undefined && jobEnded(query.state.data) ? false : everyMs),
  });
}

/** Whether a job has ended (succeeded or failed). */
export function jobEnded(job: Job): boolean {
  return job.status === "succeeded" || job.status === "failed";
}

/** One container, starting from `initial`, polled every `refetchInterval` ms (false: not). */
export function useContainerFrom(initial: Container, refetchInterval: number | false) {
  return useQuery({ queryKey: containerKeys.instance(initial.id), queryFn: () => asApiError(getContainer(initial.id)), initialData: initial, refetchInterval });
}

export function useJobs(containerId: string, refetchInterval: number) {
  return useQuery({ queryKey: containerKeys.jobs(containerId), queryFn: () => asApiError(listJobs(containerId)), refetchInterval });
}

/** One folder of a container's volume. */
export function useContainerFiles(containerId: string, path: string) {
  return useQuery({ queryKey: containerKeys.files(containerId, path), queryFn: () => asApiError(listContainerFiles(containerId, path)) });
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
