/** Typed calls of a tenant's files settings: version retention and (platform administrators) the tenant quota. */
import { api, unwrap } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type FilesSettings = Schemas["FilesSettingsRead"];
export type FilesSettingsUpdate = Schemas["FilesSettingsUpdate"];

export function getFilesSettings(tenantId: string, signal?: AbortSignal): Promise<FilesSettings> {
  return unwrap(api.GET("/api/admin/tenants/{tenant_id}/files-settings", { params: { path: { tenant_id: tenantId } }, signal }));
}

export function updateFilesSettings(tenantId: string, body: FilesSettingsUpdate): Promise<FilesSettings> {
  return unwrap(api.PUT("/api/admin/tenants/{tenant_id}/files-settings", { params: { path: { tenant_id: tenantId } }, body }));
}
