/**
 * The documents classifier (documents.manage): where its training stands, what it learnt, and "Retrain now".
 * Its query key sits under the documents' keys (`["documents", ...]`), so refreshing all of documents refreshes it.
 */
import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "./client";
import { asApiError } from "./queryClient";
import type { components } from "./schema";

export type ClassifierStatus = components["schemas"]["ClassifierStatus"];
export type ClassifierField = components["schemas"]["ClassifierField"];

export const classifierKey = ["documents", "classifier"] as const;

/** How often the card asks again while a training is queued or under way. */
export const CLASSIFIER_POLL_MS = 3000;

export function getClassifier(): Promise<ClassifierStatus> {
  return unwrap(api.GET("/api/documents/classifier"));
}

/** Queue a training now; resolves to the state with the training queued. */
export function retrainClassifier(): Promise<ClassifierStatus> {
  return unwrap(api.POST("/api/documents/classifier/retrain"));
}

/** The classifier's state, asked for again every few seconds while a training is queued or running. */
export function useClassifier() {
  return useQuery({
    queryKey: classifierKey,
    queryFn: () => asApiError(getClassifier()),
    refetchInterval: (query) => (query.state.data === undefined || query.state.data.state === "idle" ? false : CLASSIFIER_POLL_MS),
  });
}
