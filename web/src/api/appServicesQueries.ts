/** Query hooks of the service registry: the Apps page's list, and the admin Services pages. */
import { useQuery } from "@tanstack/react-query";

import { getService, getServiceSettings, listApps, listChecks, listPermissions, listServices } from "./appServices";
import { asApiError } from "./queryClient";
import { appServiceKeys } from "./queryKeys";

/** Health changes while the page is open: lists are read again every 30 s (the server checks as often). */
const HEALTH_REFRESH_MS = 30_000;

export function useApps() {
  return useQuery({ queryKey: appServiceKeys.apps, queryFn: () => asApiError(listApps()), refetchInterval: HEALTH_REFRESH_MS });
}

export function useServices() {
  return useQuery({ queryKey: appServiceKeys.services, queryFn: () => asApiError(listServices()), refetchInterval: HEALTH_REFRESH_MS });
}

export function useService(serviceId: string) {
  return useQuery({ queryKey: appServiceKeys.service(serviceId), queryFn: () => asApiError(getService(serviceId)) });
}

export function useChecks(serviceId: string, hours: number) {
  return useQuery({
    queryKey: appServiceKeys.checks(serviceId, hours),
    queryFn: () => asApiError(listChecks(serviceId, hours)),
    refetchInterval: HEALTH_REFRESH_MS,
  });
}

export function useServiceSettings(serviceId: string) {
  return useQuery({ queryKey: appServiceKeys.settings(serviceId), queryFn: () => asApiError(getServiceSettings(serviceId)) });
}

export function usePermissions(serviceId: string, enabled = true) {
  return useQuery({ queryKey: appServiceKeys.permissions(serviceId), queryFn: () => asApiError(listPermissions(serviceId)), enabled });
}
