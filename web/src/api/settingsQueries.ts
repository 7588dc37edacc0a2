/** Query hooks of the Settings area: the overview, the feature flags and (platform administrators) each flag's tenant overrides. */
import { useQuery } from "@tanstack/react-query";

import { asApiError } from "./queryClient";
import { settingsKeys } from "./queryKeys";
import { getSettingsOverview, listFlagOverrides, listFlags } from "./settings";

export function useSettingsOverview() {
  return useQuery({ queryKey: settingsKeys.overview, queryFn: () => asApiError(getSettingsOverview()) });
}

export function useFeatureFlags() {
  return useQuery({ queryKey: settingsKeys.flags, queryFn: () => asApiError(listFlags()) });
}

/** Nothing is asked for while `enabled` is false (a tenant admin may not read them). */
export function useFlagOverrides(key: string, enabled: boolean) {
  return useQuery({ queryKey: settingsKeys.overrides(key), queryFn: () => asApiError(listFlagOverrides(key)), enabled });
}
