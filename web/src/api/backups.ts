/** Backups of the whole install (super-admins): restore points and runs, "Back up now", schedule and retention. */
import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "./client";
import { asApiError } from "./queryClient";
import type { components } from "./schema";

export type BackupRun = components["schemas"]["BackupRunRead"];
export type BackupSettings = components["schemas"]["BackupSettingsRead"];
export type BackupSettingsUpdate = components["schemas"]["BackupSettingsUpdate"];

export const backupKeys = {
  runs: ["ops", "backups", "runs"] as const,
  settings: ["ops", "backups", "settings"] as const,
};

export function listBackupRuns(signal?: AbortSignal): Promise<BackupRun[]> {
  return unwrap(api.GET("/api/ops/backups", { params: { query: { limit: 50 } }, signal })).then((page) => page.items);
}

export function startBackup(): Promise<BackupRun> {
  return unwrap(api.POST("/api/ops/backups"));
}

export function getBackupSettings(signal?: AbortSignal): Promise<BackupSettings> {
  return unwrap(api.GET("/api/ops/backups/settings", { signal }));
}

export function updateBackupSettings(body: BackupSettingsUpdate): Promise<BackupSettings> {
  return unwrap(api.PUT("/api/ops/backups/settings", { body }));
}

/** The runs, polled every 2 s while one is queued or running (its progress bar moves). */
export function useBackupRuns() {
  return useQuery({
    queryKey: backupKeys.runs,
    queryFn: ({ signal }) => asApiError(listBackupRuns(signal)),
    refetchInterval: (query) => (query.state.data?.some((run) => run.status === "queued" || run.status === "running") ? 2000 : false),
  });
}

export function useBackupSettings() {
  return useQuery({ queryKey: backupKeys.settings, queryFn: ({ signal }) => asApiError(getBackupSettings(signal)) });
}

export type RestorePoint = components["schemas"]["RestorePointRead"];
export type BackedUpFile = components["schemas"]["BackedUpFileRead"];

export function listRestorePoints(signal?: AbortSignal): Promise<RestorePoint[]> {
  return unwrap(api.GET("/api/ops/backups/restore-points", { signal })).then((page) => page.items);
}

export function listBackedUpFiles(runId: string, parentId: string | null, signal?: AbortSignal): Promise<BackedUpFile[]> {
  const query = parentId === null ? {} : { parent_id: parentId };
  return unwrap(api.GET("/api/ops/backups/restore-points/{run_id}/files", { params: { path: { run_id: runId }, query }, signal })).then((page) => page.items);
}

/** Bring one of your files or folders back into your trash; the trashed folder's id. */
export function restoreFromBackup(runId: string, fileId: string): Promise<string> {
  return unwrap(api.POST("/api/ops/backups/restore-points/{run_id}/files/{file_id}/restore", { params: { path: { run_id: runId, file_id: fileId } } })).then(
    (answer) => answer.trashed_id,
  );
}

export function useRestorePoints() {
  return useQuery({ queryKey: ["ops", "backups", "restore-points"], queryFn: ({ signal }) => asApiError(listRestorePoints(signal)) });
}

export function useBackedUpFiles(runId: string | null, parentId: string | null) {
  return useQuery({
    queryKey: ["ops", "backups", "restore-points", runId, parentId],
    queryFn: ({ signal }) => asApiError(listBackedUpFiles(runId ?? "", parentId, signal)),
    enabled: runId !== null,
  });
}
