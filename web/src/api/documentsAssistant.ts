/**
 * The AI assistant (ai.manage, the `ai-service-admin` group): the organization's OpenAI-compatible provider — URL,
 * model, write-only key, system prompt, limits — and "Test connection". The key is never read back: only `key_set`.
 */
import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "./client";
import { asApiError } from "./queryClient";
import type { components } from "./schema";

export type AssistantSettings = components["schemas"]["AssistantSettingsRead"];
export type AssistantSettingsUpdate = components["schemas"]["AssistantSettingsUpdate"];
export type ConnectionTest = components["schemas"]["ConnectionTest"];

export const assistantKey = ["documents", "assistant"] as const;

export function getAssistant(): Promise<AssistantSettings> {
  return unwrap(api.GET("/api/documents/assistant"));
}

export function updateAssistant(change: AssistantSettingsUpdate): Promise<AssistantSettings> {
  return unwrap(api.PUT("/api/documents/assistant", { body: change }));
}

/** Ask the provider with the saved settings; resolves to what happened (ok, or why not), never to the key. */
export function testAssistant(): Promise<ConnectionTest> {
  return unwrap(api.POST("/api/documents/assistant/test"));
}

export function useAssistant(enabled = true) {
  return useQuery({ queryKey: assistantKey, queryFn: () => asApiError(getAssistant()), enabled });
}
