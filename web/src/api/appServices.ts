/** The service registry's calls: the apps you may open, and (admins) registered services, their health, settings and grants. */
import { api, unwrap, unwrapEmpty } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type App = Schemas["AppServiceEntry"];
export type Service = Schemas["AppServiceRead"];
export type ServiceDetail = Schemas["AppServiceDetail"];
export type ServiceStatus = Service["status"];
export type Check = Schemas["AppServiceCheckRead"];
export type CheckPage = Schemas["AppServiceCheckPage"];
export type ServiceSettings = Schemas["AppServiceSettingsRead"];
export type SettingField = ServiceSettings["fields"][number];
export type SettingValue = string | number | boolean | null;
export type Permissions = Schemas["AppPermissionList"];
export type Permission = Schemas["AppPermissionRead"];

const path = (serviceId: string) => ({ path: { service_id: serviceId } });

export function listApps(signal?: AbortSignal): Promise<App[]> {
  return unwrap(api.GET("/api/apps/services", { signal }));
}

export function listServices(signal?: AbortSignal): Promise<Service[]> {
  return unwrap(api.GET("/api/apps/admin/services", { signal }));
}

export function getService(serviceId: string, signal?: AbortSignal): Promise<ServiceDetail> {
  return unwrap(api.GET("/api/apps/admin/services/{service_id}", { params: path(serviceId), signal }));
}

export function registerService(baseUrl: string): Promise<ServiceDetail> {
  return unwrap(api.POST("/api/apps/admin/services", { body: { base_url: baseUrl } }));
}

export function setServiceEnabled(serviceId: string, enabled: boolean): Promise<ServiceDetail> {
  return unwrap(api.PATCH("/api/apps/admin/services/{service_id}", { params: path(serviceId), body: { enabled } }));
}

export function refreshService(serviceId: string): Promise<ServiceDetail> {
  return unwrap(api.POST("/api/apps/admin/services/{service_id}/refresh", { params: path(serviceId) }));
}

export function deleteService(serviceId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/apps/admin/services/{service_id}", { params: path(serviceId) }));
}

/** The last `hours` of health checks, newest first (at most 500). */
export function listChecks(serviceId: string, hours: number, signal?: AbortSignal): Promise<CheckPage> {
  return unwrap(
    api.GET("/api/apps/admin/services/{service_id}/checks", { params: { ...path(serviceId), query: { hours, limit: 500 } }, signal }),
  );
}

export function getServiceSettings(serviceId: string, signal?: AbortSignal): Promise<ServiceSettings> {
  return unwrap(api.GET("/api/apps/services/{service_id}/settings", { params: path(serviceId), signal }));
}

export function updateServiceSettings(serviceId: string, values: Record<string, SettingValue>): Promise<ServiceSettings> {
  return unwrap(api.PUT("/api/apps/services/{service_id}/settings", { params: path(serviceId), body: { values } }));
}

export function listPermissions(serviceId: string, signal?: AbortSignal): Promise<Permissions> {
  return unwrap(api.GET("/api/apps/services/{service_id}/permissions", { params: path(serviceId), signal }));
}

export function grantPermission(serviceId: string, target: { kind: "user" | "group"; id: string }): Promise<Permissions> {
  const body = target.kind === "user" ? { user_id: target.id } : { group_id: target.id };
  return unwrap(api.POST("/api/apps/services/{service_id}/permissions", { params: path(serviceId), body }));
}

export function revokePermission(serviceId: string, permissionId: string): Promise<void> {
  return unwrapEmpty(
    api.DELETE("/api/apps/services/{service_id}/permissions/{permission_id}", {
      params: { path: { service_id: serviceId, permission_id: permissionId } },
    }),
  );
}
