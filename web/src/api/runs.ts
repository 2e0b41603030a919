// Runs, their attempts and events, approvals and session messages: the calls and contracts of the run pages
// (docs/runs.md), one typed function per endpoint; file uploads are in files.ts.
import { http, type Page } from "./client";
import type { WorkflowStep } from "./types";

const ws = (workspace: string) => `/api/v1/workspaces/${encodeURIComponent(workspace)}`;
const runPath = (workspace: string, run: string) => `${ws(workspace)}/runs/${encodeURIComponent(run)}`;

export type RunStatus = "queued" | "running" | "waiting" | "halted" | "compensating" | "succeeded" | "failed" | "compensated";

/** Statuses a run never leaves on its own (a failed run may still be retried). */
export const finishedStatuses: readonly string[] = ["succeeded", "failed", "compensated"];
export const isFinished = (status: string) => finishedStatuses.includes(status);

export const runStatuses: readonly RunStatus[] = ["queued", "running", "waiting", "halted", "compensating", "succeeded", "failed", "compensated"];

export interface RunTrigger {
  type: string;
  startedBy: string | null;
  parentRunId: string | null;
  parentStepId: string | null;
}

export interface RunUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costUsd: number;
}

/** A run in a list: no context, no steps. */
export interface RunSummary {
  id: string;
  workflowId: string;
  workflowVersion: number;
  number: number;
  displayId: string;
  status: string;
  trigger: RunTrigger;
  output: unknown;
  error: Record<string, unknown> | null;
  parentRunId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  /** Tokens and cost so far (lists carry it too). */
  usage?: RunUsage;
}

export interface RunStep {
  id: string;
  activity: string;
  status: string;
  attempts: number;
  iteration: number;
  output: unknown;
  error: Record<string, unknown> | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RunMessage {
  id: number;
  stepId: string | null;
  role: string;
  text: string | null;
  by: string | null;
  end: boolean;
  createdAt: string;
}

export interface RunLogLine {
  id: number;
  stepId: string | null;
  level: string;
  message: string;
  createdAt: string;
}

/** A run in full, as `GET …/runs/{run}` answers it. */
export interface Run extends RunSummary {
  workflowName: string;
  haltRequested: boolean;
  input: unknown;
  context: Record<string, unknown>;
  links: Record<string, string>;
  steps: RunStep[];
  usage: RunUsage;
  version: number;
  messages?: RunMessage[] | null;
  logs?: RunLogLine[] | null;
}

/** One attempt: a step run, a timer, or a compensation. */
export interface RunTask {
  id: number;
  stepId: string;
  kind: string;
  attempt: number;
  status: string;
  idempotencyKey: string;
  availableAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  worker: string | null;
  error: Record<string, unknown> | null;
}

export interface ApprovalDecision {
  by: string;
  decision: "approve" | "reject";
  comment: string | null;
  at: string;
}

export type ApprovalStatus = "pending" | "approved" | "rejected" | "expired" | "cancelled";

export interface Approval {
  id: string;
  runId: string;
  stepId: string;
  iteration: number;
  status: ApprovalStatus;
  approvers: string[];
  quorum: number;
  deadline: string | null;
  escalations: number;
  summary: unknown;
  outcomeReason: string | null;
  decisions: ApprovalDecision[];
  createdAt: string;
  decidedAt: string | null;
}

export interface StartRunRequest {
  input?: unknown;
  prompt?: string;
  attachments?: unknown[];
  referenceImageIds?: string[];
  config?: Record<string, unknown>;
  githubRepoUrl?: string;
  branchName?: string;
}

/** A definition as one of the workflow's versions holds it. */
export interface WorkflowVersion {
  version: number;
  change: string;
  createdAt: string;
  definition: { subType?: string; steps?: WorkflowStep[]; [field: string]: unknown };
}

export interface RunListFilter {
  status?: string;
  limit?: number;
  link?: string | null;
}

export const runsApi = {
  get: (workspace: string, run: string, signal?: AbortSignal) => http.get<Run>(runPath(workspace, run), { signal }),

  /** A page of a workflow's runs (or the page a `next`/`previous` link names), newest first. */
  listOfWorkflow: (workspace: string, workflow: string, filter: RunListFilter, signal?: AbortSignal) =>
    filter.link
      ? http.get<Page<RunSummary>>(filter.link, { signal })
      : http.get<Page<RunSummary>>(`${ws(workspace)}/workflows/${encodeURIComponent(workflow)}/runs`, { query: { status: filter.status, limit: filter.limit }, signal }),

  /** Runs by ID filter: the newest of a set of statuses, for refreshing the rows still in progress. */
  list: (workspace: string, query: { workflow?: string; status?: string; limit?: number }, signal?: AbortSignal) =>
    http.get<Page<RunSummary>>(`${ws(workspace)}/runs`, { query, signal }),

  tasks: (workspace: string, run: string, signal?: AbortSignal) =>
    http.get<Page<RunTask>>(`${runPath(workspace, run)}/tasks`, { query: { limit: 100 }, signal }),

  /** Starts a run; the same `idempotencyKey` again answers the run the first start made (docs/runs.md). */
  start: (workspace: string, workflow: string, request: StartRunRequest, idempotencyKey: string) =>
    http.post<Run>(`${ws(workspace)}/workflows/${encodeURIComponent(workflow)}/runs`, request, { headers: { "Idempotency-Key": idempotencyKey } }),

  halt: (workspace: string, run: string) => http.post<Run>(`${runPath(workspace, run)}/halt`),
  resume: (workspace: string, run: string) => http.post<Run>(`${runPath(workspace, run)}/resume`),
  retry: (workspace: string, run: string) => http.post<Run>(`${runPath(workspace, run)}/retry`),
  rerun: (workspace: string, run: string) => http.post<Run>(`${runPath(workspace, run)}/rerun`),

  sendMessage: (workspace: string, run: string, body: { content?: string; ifBusy?: string; end?: boolean }) =>
    http.post<RunMessage>(`${runPath(workspace, run)}/messages`, body),

  /** The address of the run's server-sent events (docs/runs.md, "Streaming"). */
  streamUrl: (workspace: string, run: string, after?: number) => `${runPath(workspace, run)}/stream${after ? `?after=${after}` : ""}`,

  workflowVersion: (workspace: string, workflow: string, version: number, signal?: AbortSignal) =>
    http.get<WorkflowVersion>(`${ws(workspace)}/workflows/${encodeURIComponent(workflow)}/versions/${version}`, { signal }),

  approvals: (workspace: string, query: { status?: string; approver?: string; run?: string; limit?: number; link?: string | null }, signal?: AbortSignal) =>
    query.link
      ? http.get<Page<Approval>>(query.link, { signal })
      : http.get<Page<Approval>>(`${ws(workspace)}/approvals`, { query: { status: query.status, approver: query.approver, run: query.run, limit: query.limit }, signal }),

  decide: (workspace: string, approval: string, decision: "approve" | "reject", comment?: string) =>
    http.post<Approval>(`${ws(workspace)}/approvals/${encodeURIComponent(approval)}/decisions`, { decision, comment: comment || undefined }),
};

/** A fresh Idempotency-Key (a UUID where the browser makes them; plain HTTP on another host may not). */
export function newIdempotencyKey(): string {
  return typeof crypto.randomUUID === "function" ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

/** How long from `start` to `end` (or now), as "1.2 s", "3 min 4 s", "2 h 5 min". */
export function formatDuration(start: string | null | undefined, end: string | null | undefined, now = Date.now()): string {
  if (!start) return "—";
  const ms = Math.max(0, (end ? Date.parse(end) : now) - Date.parse(start));
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 6 });
export const formatCost = (value: number) => usd.format(value);
