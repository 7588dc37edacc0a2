/** Query hooks of the container platform's admin lists (clusters, nodes, eggs, egg categories) and the mutations that change them. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import {
  createCluster,
  deleteEgg,
  deleteEggCategory,
  listClusters,
  listEggCategories,
  listEggs,
  listNodes,
  revokeNode,
} from "./containers";
import { toApiError } from "./problem";

/** Query keys: everything under ["containers"] belongs to this domain. */
export const containerKeys = {
  clusters: ["containers", "clusters"] as const,
  nodes: ["containers", "nodes"] as const,
  eggs: ["containers", "eggs"] as const,
  eggCategories: ["containers", "egg-categories"] as const,
};

/** Turn any failure into an ApiError (the query client's error type). */
function asApiError<T>(promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    throw toApiError(error);
  });
}

export function useClusters() {
  return useQuery({ queryKey: containerKeys.clusters, queryFn: ({ signal }) => asApiError(listClusters(signal)) });
}

/** Every node; `refetchInterval` (ms) keeps heartbeats and capacity fresh on the Nodes page. */
export function useNodes(refetchInterval?: number) {
  return useQuery({ queryKey: containerKeys.nodes, queryFn: ({ signal }) => asApiError(listNodes(signal)), refetchInterval });
}

export function useEggs() {
  return useQuery({ queryKey: containerKeys.eggs, queryFn: ({ signal }) => asApiError(listEggs(signal)) });
}

export function useEggCategories() {
  return useQuery({ queryKey: containerKeys.eggCategories, queryFn: ({ signal }) => asApiError(listEggCategories(signal)) });
}

/** Invalidate one or more of this domain's lists (after a change made elsewhere, e.g. a node created in a dialog). */
export function useInvalidateContainers() {
  const client = useQueryClient();
  return (...keys: (readonly string[])[]): void => {
    for (const queryKey of keys) void client.invalidateQueries({ queryKey });
  };
}

export function useCreateCluster() {
  const invalidate = useInvalidateContainers();
  return useMutation({ mutationFn: (body: Parameters<typeof createCluster>[0]) => asApiError(createCluster(body)), onSuccess: () => { invalidate(containerKeys.clusters); } });
}

export function useRevokeNode() {
  const invalidate = useInvalidateContainers();
  return useMutation({ mutationFn: (id: string) => asApiError(revokeNode(id)), onSuccess: () => { invalidate(containerKeys.nodes); } });
}

export function useDeleteEgg() {
  const invalidate = useInvalidateContainers();
  return useMutation({ mutationFn: (id: string) => asApiError(deleteEgg(id)), onSuccess: () => { invalidate(containerKeys.eggs, containerKeys.eggCategories); } });
}

export function useDeleteEggCategory() {
  const invalidate = useInvalidateContainers();
  return useMutation({ mutationFn: (id: string) => asApiError(deleteEggCategory(id)), onSuccess: () => { invalidate(containerKeys.eggs, containerKeys.eggCategories); } });
}
