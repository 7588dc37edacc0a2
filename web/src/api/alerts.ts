/** Alerts: rules on stored metrics, notification targets (e-mail, signed webhooks), what fires now, the history, silences. */
import { useQuery } from "@tanstack/react-query";

import { api, unwrap, unwrapEmpty } from "./client";
import { asApiError } from "./queryClient";
import type { components } from "./schema";

export type AlertRule = components["schemas"]["RuleRead"];
export type AlertRuleInput = components["schemas"]["RuleCreate"];
export type AlertRuleBase = components["schemas"]["RuleBase"];
export type AlertTemplate = components["schemas"]["RuleTemplate"];
export type AlertMetric = components["schemas"]["MetricChoice"];
export type AlertTarget = components["schemas"]["TargetRead"];
export type AlertTargetCreated = components["schemas"]["TargetCreated"];
export type AlertTargetInput = components["schemas"]["TargetCreate"];
export type AlertTestResult = components["schemas"]["TargetTestResult"];
export type AlertInstance = components["schemas"]["InstanceRead"];
export type AlertEvent = components["schemas"]["EventRead"];
export type AlertEventPage = components["schemas"]["EventPage"];
export type AlertSilence = components["schemas"]["SilenceRead"];
export type AlertSilenceInput = components["schemas"]["SilenceCreate"];

/** How often the page asks again (rules are evaluated every 30 s by default). */
export const ALERTS_REFRESH_MS = 15_000;

export const alertKeys = {
  all: ["alerts"] as const,
  metrics: ["alerts", "metrics"] as const,
  templates: ["alerts", "templates"] as const,
  rules: ["alerts", "rules"] as const,
  targets: ["alerts", "targets"] as const,
  instances: ["alerts", "instances"] as const,
  events: (offset: number) => ["alerts", "events", offset] as const,
  silences: ["alerts", "silences"] as const,
};

export const listAlertMetrics = (signal?: AbortSignal): Promise<AlertMetric[]> => unwrap(api.GET("/api/ops/alerts/metrics", { signal }));
export const listAlertTemplates = (signal?: AbortSignal): Promise<AlertTemplate[]> => unwrap(api.GET("/api/ops/alerts/templates", { signal }));
export const listAlertRules = (signal?: AbortSignal): Promise<AlertRule[]> => unwrap(api.GET("/api/ops/alerts/rules", { signal }));
export const listAlertTargets = (signal?: AbortSignal): Promise<AlertTarget[]> => unwrap(api.GET("/api/ops/alerts/targets", { signal }));
export const listAlertInstances = (signal?: AbortSignal): Promise<AlertInstance[]> => unwrap(api.GET("/api/ops/alerts/instances", { signal }));
export const listAlertSilences = (signal?: AbortSignal): Promise<AlertSilence[]> => unwrap(api.GET("/api/ops/alerts/silences", { signal }));

export function listAlertEvents(offset: number, limit: number, signal?: AbortSignal): Promise<AlertEventPage> {
  return unwrap(api.GET("/api/ops/alerts/events", { params: { query: { offset, limit } }, signal }));
}

export function createAlertRule(body: AlertRuleInput): Promise<AlertRule> {
  return unwrap(api.POST("/api/ops/alerts/rules", { body }));
}

export function updateAlertRule(ruleId: string, body: components["schemas"]["RuleUpdate"]): Promise<AlertRule> {
  return unwrap(api.PATCH("/api/ops/alerts/rules/{rule_id}", { params: { path: { rule_id: ruleId } }, body }));
}

export function deleteAlertRule(ruleId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/ops/alerts/rules/{rule_id}", { params: { path: { rule_id: ruleId } } }));
}

export function createAlertTarget(body: AlertTargetInput): Promise<AlertTargetCreated> {
  return unwrap(api.POST("/api/ops/alerts/targets", { body }));
}

export function deleteAlertTarget(targetId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/ops/alerts/targets/{target_id}", { params: { path: { target_id: targetId } } }));
}

export function testAlertTarget(targetId: string): Promise<AlertTestResult> {
  return unwrap(api.POST("/api/ops/alerts/targets/{target_id}/test", { params: { path: { target_id: targetId } } }));
}

export function createAlertSilence(body: AlertSilenceInput): Promise<AlertSilence> {
  return unwrap(api.POST("/api/ops/alerts/silences", { body }));
}

export function expireAlertSilence(silenceId: string): Promise<AlertSilence> {
  return unwrap(api.DELETE("/api/ops/alerts/silences/{silence_id}", { params: { path: { silence_id: silenceId } } }));
}

export function useAlertMetrics() {
  return useQuery({ queryKey: alertKeys.metrics, queryFn: ({ signal }) => asApiError(listAlertMetrics(signal)), staleTime: 300_000 });
}

export function useAlertTemplates() {
  return useQuery({ queryKey: alertKeys.templates, queryFn: ({ signal }) => asApiError(listAlertTemplates(signal)), staleTime: 300_000 });
}

export function useAlertRules() {
  return useQuery({ queryKey: alertKeys.rules, queryFn: ({ signal }) => asApiError(listAlertRules(signal)), refetchInterval: ALERTS_REFRESH_MS });
}

export function useAlertTargets() {
  return useQuery({ queryKey: alertKeys.targets, queryFn: ({ signal }) => asApiError(listAlertTargets(signal)) });
}

export function useAlertInstances() {
  return useQuery({ queryKey: alertKeys.instances, queryFn: ({ signal }) => asApiError(listAlertInstances(signal)), refetchInterval: ALERTS_REFRESH_MS });
}

export function useAlertSilences() {
  return useQuery({ queryKey: alertKeys.silences, queryFn: ({ signal }) => asApiError(listAlertSilences(signal)) });
}

export function useAlertEvents(offset: number, limit: number) {
  return useQuery({ queryKey: alertKeys.events(offset), queryFn: ({ signal }) => asApiError(listAlertEvents(offset, limit, signal)), refetchInterval: ALERTS_REFRESH_MS });
}
