/** Typed calls of the Settings area: the overview of every settings group, and the feature flags (per tenant, per install). */
import { api, unwrap, unwrapEmpty } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type SettingsOverview = Schemas["SettingsOverview"];
export type SettingsGroup = Schemas["SettingsGroupRead"];
export type FeatureFlag = Schemas["FlagRead"];
export type FeatureFlags = Schemas["FlagList"];
export type FlagOverrides = Schemas["FlagOverrides"];

export function getSettingsOverview(): Promise<SettingsOverview> {
  return unwrap(api.GET("/api/ops/settings"));
}

export function listFlags(): Promise<FeatureFlags> {
  return unwrap(api.GET("/api/ops/flags"));
}

/** Turn a tenant-scope flag on or off for the caller's tenant. */
export function setTenantFlag(key: string, enabled: boolean): Promise<FeatureFlag> {
  return unwrap(api.PUT("/api/ops/flags/{key}", { params: { path: { key } }, body: { enabled } }));
}

/** Drop the tenant's own value: the platform's value or the default applies again. */
export function resetTenantFlag(key: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/ops/flags/{key}", { params: { path: { key } } }));
}

/** Platform administrators: the flag's value for the whole install. */
export function setInstallFlag(key: string, enabled: boolean): Promise<FeatureFlag> {
  return unwrap(api.PUT("/api/ops/flags/{key}/install", { params: { path: { key } }, body: { enabled } }));
}

export function resetInstallFlag(key: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/ops/flags/{key}/install", { params: { path: { key } } }));
}

/** Platform administrators: the tenants that chose their own value of a flag. */
export function listFlagOverrides(key: string): Promise<FlagOverrides> {
  return unwrap(api.GET("/api/ops/flags/{key}/tenants", { params: { path: { key } } }));
}
