/** The compute domain's calls: clusters and eggs to choose from, containers, their power actions and jobs. */
import { api, unwrap } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Cluster = Schemas["ClusterRead"];
export type Egg = Schemas["EggRead"];
export type Container = Schemas["ContainerRead"];
export type ContainerCreate = Schemas["ContainerCreate"];
export type Accepted = Schemas["ContainerAccepted"];
export type PowerAction = Schemas["PowerRequest"]["action"];

export function listClusters(signal?: AbortSignal): Promise<Cluster[]> {
  return unwrap(api.GET("/api/clusters", { signal }));
}

export function listEggs(signal?: AbortSignal): Promise<Egg[]> {
  return unwrap(api.GET("/api/eggs", { signal }));
}

export function listContainers(signal?: AbortSignal): Promise<Schemas["ContainerPage"]> {
  return unwrap(api.GET("/api/containers", { params: { query: { limit: 100, offset: 0 } }, signal }));
}

export function createContainer(body: ContainerCreate): Promise<Accepted> {
  return unwrap(api.POST("/api/containers", { body }));
}

export function powerContainer(containerId: string, action: PowerAction): Promise<Accepted> {
  return unwrap(api.POST("/api/containers/{container_id}/power", { params: { path: { container_id: containerId } }, body: { action } }));
}

export function deleteContainer(containerId: string): Promise<Accepted> {
  return unwrap(api.DELETE("/api/containers/{container_id}", { params: { path: { container_id: containerId } } }));
}
