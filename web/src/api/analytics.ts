// Analytics and a workflow's connections (docs/analytics.md): typed calls over `http`.
import { http } from "./client";

export type Granularity = "daily" | "weekly" | "monthly";

export interface AnalyticsWindow {
  from: string;
  to: string;
  days: number;
  granularity: Granularity;
  timeZone: string;
}

export interface AnalyticsKpis {
  runs: number;
  succeeded: number;
  failed: number;
  compensated: number;
  halted: number;
  successRate: number | null;
  p50DurationSeconds: number | null;
  p95DurationSeconds: number | null;
  averageDurationSeconds: number | null;
  costUsd: number;
  averageCostUsd: number | null;
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  approvals: number;
  approvalWaitSeconds: number;
  averageApprovalWaitSeconds: number | null;
}

export interface AnalyticsPoint {
  /** The local date the period starts on (yyyy-MM-dd). */
  date: string;
  start: string;
  end: string;
  runs: number;
  succeeded: number;
  failed: number;
  compensated: number;
  halted: number;
  successRate: number | null;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  approvals: number;
}

export interface AnalyticsSlice {
  key: string;
  name: string | null;
  runs: number;
  succeeded: number;
  failed: number;
  successRate: number | null;
  averageDurationSeconds: number | null;
  costUsd: number;
  costShare: number | null;
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
}

export interface AnalyticsBreakdown {
  byModel: AnalyticsSlice[];
  byPersona: AnalyticsSlice[] | null;
  byStep: AnalyticsSlice[] | null;
  byWorkflow: AnalyticsSlice[] | null;
  byVersion: AnalyticsSlice[] | null;
}

export interface TopWorkflows {
  byCost: AnalyticsSlice[];
  byFailures: AnalyticsSlice[];
  byDuration: AnalyticsSlice[];
}

export interface AnalyticsResponse {
  scope: "workflow" | "persona" | "workspace";
  id: string;
  name: string;
  window: AnalyticsWindow;
  kpis: AnalyticsKpis;
  breakdown: AnalyticsBreakdown;
  series: AnalyticsPoint[];
  top: TopWorkflows | null;
}

export interface AnalyticsQuery {
  days?: number;
  granularity?: Granularity;
  timeZone?: string;
}

export interface PersonaVersionUse {
  version: number;
  runs: number;
  succeeded: number;
  failed: number;
  successRate: number | null;
  averageDurationSeconds: number | null;
  costUsd: number;
  modelCalls: number;
  firstSeen: string | null;
  lastSeen: string | null;
}

export interface RelatedPersona {
  id: string;
  name: string | null;
  currentVersion: number | null;
  named: boolean;
  versions: PersonaVersionUse[];
}

export interface RelatedWorkflow {
  id: string;
  name: string;
  steps: string[];
}

export interface RelatedRun {
  id: string;
  displayId: string;
  status: string;
  createdAt: string;
  finishedAt: string | null;
  costUsd: number;
  personas: { personaId: string; version: number }[];
}

export interface PersonaVersionChange {
  personaId: string;
  personaName: string | null;
  fromVersion: number;
  toVersion: number;
  runId: string;
  runDisplayId: string;
  at: string;
  before: PersonaVersionUse | null;
  after: PersonaVersionUse | null;
}

export interface RelatedResponse {
  personas: RelatedPersona[];
  skills: string[];
  eventTypes: string[];
  childWorkflows: RelatedWorkflow[];
  parentWorkflows: RelatedWorkflow[];
  recentRuns: RelatedRun[];
  versionChanges: PersonaVersionChange[];
}

const ws = (workspace: string) => `/api/v1/workspaces/${encodeURIComponent(workspace)}`;

/** The API paths analytics panels read: a workspace's, a workflow's, a persona's. */
export const analyticsPaths = {
  workspace: (workspace: string) => `${ws(workspace)}/analytics`,
  workflow: (workspace: string, workflow: string) => `${ws(workspace)}/workflows/${encodeURIComponent(workflow)}/analytics`,
  persona: (workspace: string, persona: string) => `${ws(workspace)}/personas/${encodeURIComponent(persona)}/analytics`,
};

export const analyticsApi = {
  /** Any of the three analytics endpoints, by its path. */
  read: (path: string, query: AnalyticsQuery, signal?: AbortSignal) =>
    http.get<AnalyticsResponse>(path, { query: { days: query.days, granularity: query.granularity, timeZone: query.timeZone }, signal }),

  related: (workspace: string, workflow: string, signal?: AbortSignal) =>
    http.get<RelatedResponse>(`${ws(workspace)}/workflows/${encodeURIComponent(workflow)}/related`, { signal }),

  /** The workspace's own time zone (settings.timeZone), the default analytics cut days in. */
  async workspaceTimeZone(workspace: string, signal?: AbortSignal): Promise<string> {
    const w = await http.get<{ settings?: { timeZone?: unknown } }>(ws(workspace), { signal });
    return typeof w.settings?.timeZone === "string" ? w.settings.timeZone : "UTC";
  },
};
