/** The compute domain's calls: clusters, nodes, allocations and eggs (admins), containers, their power actions, jobs and console tickets. */
import { api, unwrap, unwrapEmpty } from "./client";
import type { components, operations } from "./schema";

type Schemas = components["schemas"];

export type Cluster = Schemas["ClusterRead"];
export type ClusterCreate = Schemas["ClusterCreate"];
export type Node = Schemas["NodeRead"];
export type NodeCreate = Schemas["NodeCreate"];
export type NodeCreated = Schemas["NodeCreated"];
export type Allocation = Schemas["AllocationRead"];
export type AllocationCreate = Schemas["AllocationCreate"];
export type Egg = Schemas["EggRead"];
export type EggVariable = Schemas["EggVariableRead"];
export type Container = Schemas["ContainerRead"];
export type ContainerCreate = Schemas["ContainerCreate"];
export type Limits = Schemas["Limits"];
export type Accepted = Schemas["ContainerAccepted"];
export type Job = Schemas["JobRead"];
export type JobPage = Schemas["JobPage"];
export type PowerAction = Schemas["PowerRequest"]["action"];
export type ConsoleTicket = Schemas["ConsoleTicket"];
/** A Pterodactyl egg file as the import route takes it. */
export type EggDocument = operations["eggs-import"]["requestBody"]["content"]["application/json"];

// --- clusters, nodes, allocations (platform administrators, except listing clusters) ---------------------

export function listClusters(signal?: AbortSignal): Promise<Cluster[]> {
  return unwrap(api.GET("/api/clusters", { signal }));
}

export function createCluster(body: ClusterCreate): Promise<Cluster> {
  return unwrap(api.POST("/api/clusters", { body }));
}

export function listNodes(signal?: AbortSignal): Promise<Node[]> {
  return unwrap(api.GET("/api/nodes", { signal }));
}

export function getNode(nodeId: string, signal?: AbortSignal): Promise<Node> {
  return unwrap(api.GET("/api/nodes/{node_id}", { params: { path: { node_id: nodeId } }, signal }));
}

export function createNode(body: NodeCreate): Promise<NodeCreated> {
  return unwrap(api.POST("/api/nodes", { body }));
}

export function revokeNode(nodeId: string): Promise<Node> {
  return unwrap(api.POST("/api/nodes/{node_id}/revoke", { params: { path: { node_id: nodeId } } }));
}

export function listAllocations(nodeId: string, signal?: AbortSignal): Promise<Allocation[]> {
  return unwrap(api.GET("/api/nodes/{node_id}/allocations", { params: { path: { node_id: nodeId } }, signal }));
}

export function addAllocations(nodeId: string, body: AllocationCreate): Promise<Allocation[]> {
  return unwrap(api.POST("/api/nodes/{node_id}/allocations", { params: { path: { node_id: nodeId } }, body }));
}

// --- eggs ------------------------------------------------------------------------------------------------

export function listEggs(signal?: AbortSignal): Promise<Egg[]> {
  return unwrap(api.GET("/api/eggs", { signal }));
}

/** Import a PTDL_v2 egg file unchanged; the server refuses a bad file naming each bad field. */
export function importEgg(document: EggDocument): Promise<Egg> {
  return unwrap(api.POST("/api/eggs/import", { body: document }));
}

/** The egg file exactly as it was imported. */
export function exportEgg(eggId: string): Promise<Record<string, unknown>> {
  return unwrap(api.GET("/api/eggs/{egg_id}/export", { params: { path: { egg_id: eggId } } }));
}

export function deleteEgg(eggId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/eggs/{egg_id}", { params: { path: { egg_id: eggId } } }));
}

// --- containers --------------------------------------------------------------------------------------------

export function listContainers(signal?: AbortSignal): Promise<Schemas["ContainerPage"]> {
  return unwrap(api.GET("/api/containers", { params: { query: { limit: 100, offset: 0 } }, signal }));
}

export function getContainer(containerId: string, signal?: AbortSignal): Promise<Container> {
  return unwrap(api.GET("/api/containers/{container_id}", { params: { path: { container_id: containerId } }, signal }));
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

/** A single-use ticket that opens this container's console socket (and no other). */
export function consoleTicket(containerId: string): Promise<ConsoleTicket> {
  return unwrap(api.POST("/api/containers/{container_id}/console-ticket", { params: { path: { container_id: containerId } } }));
}

// --- jobs --------------------------------------------------------------------------------------------------

export function listJobs(containerId: string | null, signal?: AbortSignal): Promise<JobPage> {
  const query = containerId === null ? { limit: 50, offset: 0 } : { container_id: containerId, limit: 50, offset: 0 };
  return unwrap(api.GET("/api/jobs", { params: { query }, signal }));
}

export function getJob(jobId: string, signal?: AbortSignal): Promise<Job> {
  return unwrap(api.GET("/api/jobs/{job_id}", { params: { path: { job_id: jobId } }, signal }));
}

export type EggUpdate = Schemas["EggUpdate"];

/** Change an egg's name, author or description (its export carries the change). */
export function updateEgg(eggId: string, body: EggUpdate): Promise<Egg> {
  return unwrap(api.PATCH("/api/eggs/{egg_id}", { params: { path: { egg_id: eggId } }, body }));
}

// --- egg categories ------------------------------------------------------------------------------------

export type EggCategory = Schemas["EggCategoryRead"];
export type EggCategoryCreate = Schemas["EggCategoryCreate"];
export type EggCategoryUpdate = Schemas["EggCategoryUpdate"];

export function listEggCategories(signal?: AbortSignal): Promise<EggCategory[]> {
  return unwrap(api.GET("/api/egg-categories", { signal }));
}

export function createEggCategory(body: EggCategoryCreate): Promise<EggCategory> {
  return unwrap(api.POST("/api/egg-categories", { body }));
}

export function updateEggCategory(categoryId: string, body: EggCategoryUpdate): Promise<EggCategory> {
  return unwrap(api.PATCH("/api/egg-categories/{category_id}", { params: { path: { category_id: categoryId } }, body }));
}

/** Remove a category; its eggs stay, uncategorized. */
export function deleteEggCategory(categoryId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/egg-categories/{category_id}", { params: { path: { category_id: categoryId } } }));
}

// --- container settings ----------------------------------------------------------------------------------

export type RestartPolicy = Schemas["RestartPolicy"];
export type ContainerUpdate = Schemas["ContainerUpdate"];

/** Change a container's name or restart policy (no recreate). */
export function updateContainer(containerId: string, body: ContainerUpdate): Promise<Container> {
  return unwrap(api.PATCH("/api/containers/{container_id}", { params: { path: { container_id: containerId } }, body }));
}
