// The workflow endpoints the configuration, builder and versions tabs and the list's actions call
// (docs/workflows.md), and export and import. Writes to one workflow carry its version in If-Match, so a change made
// elsewhere meanwhile is refused (412) instead of overwritten.
import { buildUrl, http, sendRaw, type Page } from "./client";
import type { Actor, FieldChange, ImportResponse, Workflow, WorkflowSummary } from "./types";

export type { FieldChange, ImportResponse } from "./types";

const base = (workspace: string) => `/api/v1/workspaces/${encodeURIComponent(workspace)}`;
const one = (workspace: string, workflow: string) => `${base(workspace)}/workflows/${encodeURIComponent(workflow)}`;
const ifMatch = (version: number) => ({ headers: { "If-Match": `"${version}"` } });

export interface WorkflowFilters {
  q?: string;
  type?: string;
  active?: boolean;
  /** `active` (default), `deleted` (the bin) or `all`. */
  status?: "active" | "deleted" | "all";
  limit?: number;
}

export interface WorkflowVersionSummary {
  version: number;
  change: string;
  name: string;
  title: string;
  createdBy: Actor | null;
  createdAt: string;
}

export interface WorkflowVersion {
  version: number;
  change: string;
  createdBy: Actor | null;
  createdAt: string;
  definition: Record<string, unknown>;
}


export interface WorkflowDiff {
  from: number;
  to: number;
  changes: FieldChange[];
}

export interface BulkResult {
  results: { index: number; id: string | null; status: number; error: { title: string; detail: string } | null }[];
}

export interface WebhookToken {
  token: string;
  path: string;
  previousValidUntil?: string | null;
}

export interface ScheduleTick {
  at: string;
  local: string;
  startsAt: string;
}

export interface Schedule {
  cron: string;
  quartzCron?: string;
  timeZone: string;
  paused: boolean;
  lastFiredAt?: string | null;
  nextFireAt?: string | null;
  next: ScheduleTick[];
}

export type ExportFormat = "json" | "yaml";

/** `create-only` reports an existing name as an error; `upsert` updates it to the imported definition. */
export type ImportMode = "create-only" | "upsert";

/** An export as the API answered it, ready to save. */
export interface ExportFile {
  text: string;
  fileName: string;
  format: ExportFormat;
}

/** Renames an import applies before anything is checked: a name of the source workspace → the name here. */
export interface ImportMapping {
  personas?: Record<string, string>;
  secrets?: Record<string, string>;
  teams?: Record<string, string>;
}

export interface ActivityInfo {
  uniqueIdentifier: string;
  description: string;
  isPure: boolean;
  latestVersion: number;
  versions: { version: number; inputSchema: Record<string, unknown>; output: string }[];
}

/** What `POST …/annotate` answers: the context after the annotations, and what each wrote where. */
export interface AnnotateResult {
  context: Record<string, unknown>;
  annotations: { id: string; annotator: string; writeTo: string; value: unknown }[];
}

export const workflowsApi = {
  list: (workspace: string, filters: WorkflowFilters, link?: string | null, signal?: AbortSignal) =>
    link
      ? http.get<Page<WorkflowSummary>>(link, { signal })
      : http.get<Page<WorkflowSummary>>(`${base(workspace)}/workflows`, {
        query: { q: filters.q, type: filters.type, active: filters.active, status: filters.status, limit: filters.limit },
        signal,
      }),

  get: (workspace: string, workflow: string, signal?: AbortSignal) => http.get<Workflow>(one(workspace, workflow), { signal }),

  /** A JSON Merge Patch (RFC 7396) of the definition: members set to null are removed, arrays replaced whole. */
  patch: (workspace: string, workflow: string, patch: Record<string, unknown>, version: number) =>
    http.patch<Workflow>(one(workspace, workflow), patch, ifMatch(version)),

  rename: (workspace: string, workflow: string, name: string, title: string | undefined, version: number) =>
    http.post<Workflow>(`${one(workspace, workflow)}/rename`, { name, title }, ifMatch(version)),

  duplicate: (workspace: string, workflow: string, request: { name?: string; title?: string } = {}) =>
    http.post<Workflow>(`${one(workspace, workflow)}/duplicate`, request),

  /** Moves the workflow to the bin. */
  remove: (workspace: string, workflow: string) => http.delete<Workflow>(one(workspace, workflow)),

  /** Deletes a binned workflow and its history for good (admins). */
  purge: (workspace: string, workflow: string) => http.delete<void>(one(workspace, workflow), { query: { permanent: true } }),

  restore: (workspace: string, workflow: string) => http.post<Workflow>(`${one(workspace, workflow)}/restore`),

  bulkDelete: (workspace: string, items: string[]) => http.post<BulkResult>(`${base(workspace)}/workflows/bulk-delete`, { items }),

  versions: (workspace: string, workflow: string, link?: string | null, signal?: AbortSignal) =>
    link
      ? http.get<Page<WorkflowVersionSummary>>(link, { signal })
      : http.get<Page<WorkflowVersionSummary>>(`${one(workspace, workflow)}/versions`, { query: { limit: 50 }, signal }),

  version: (workspace: string, workflow: string, version: number, signal?: AbortSignal) =>
    http.get<WorkflowVersion>(`${one(workspace, workflow)}/versions/${version}`, { signal }),

  diff: (workspace: string, workflow: string, from: number, to: number, signal?: AbortSignal) =>
    http.get<WorkflowDiff>(`${one(workspace, workflow)}/diff`, { query: { from, to }, signal }),

  revert: (workspace: string, workflow: string, toVersion: number, currentVersion: number) =>
    http.post<Workflow>(`${one(workspace, workflow)}/revert`, { version: toVersion }, ifMatch(currentVersion)),

  webhookToken: (workspace: string, workflow: string) => http.get<WebhookToken>(`${one(workspace, workflow)}/webhook-token`),

  rotateWebhookToken: (workspace: string, workflow: string, gracePeriod?: string) =>
    http.post<WebhookToken>(`${one(workspace, workflow)}/webhook-token/rotate`, gracePeriod ? { gracePeriod } : {}),

  schedule: (workspace: string, workflow: string, signal?: AbortSignal) => http.get<Schedule>(`${one(workspace, workflow)}/schedule`, { signal }),

  activities: (workspace: string, signal?: AbortSignal) => http.get<ActivityInfo[]>(`${base(workspace)}/activities`, { signal }),

  /**
   * An export document (docs/workflows.md, "Export and import") of every workflow the filters match, on every page,
   * or of one workflow: its text, and the file name the API gives it (Content-Disposition).
   */
  export: async (workspace: string, what: { filters: WorkflowFilters } | { workflow: string }, format: ExportFormat): Promise<ExportFile> => {
    const path = "workflow" in what
      ? buildUrl(`${one(workspace, what.workflow)}/export`, { format })
      : buildUrl(`${base(workspace)}/workflows/export`, {
        q: what.filters.q, type: what.filters.type, active: what.filters.active, status: what.filters.status, format,
      });
    const response = await sendRaw("GET", path, { accept: format === "yaml" ? "application/yaml, application/problem+json" : "application/json" });
    const named = /filename="?([^";]+)"?/i.exec(response.headers.get("Content-Disposition") ?? "")?.[1];
    return { text: await response.text(), fileName: named ?? `${workspace}-workflows.${format}`, format };
  },

  /** Imports an export document (JSON, or YAML as written); with dryRun, answers the report and changes nothing. */
  import: (workspace: string, document: { text: string; format: ExportFormat }, options: { mode: ImportMode; dryRun: boolean }) =>
    sendRaw("POST", buildUrl(`${base(workspace)}/workflows/import`, { mode: options.mode, dryRun: options.dryRun || undefined }), {
      body: document.text, contentType: document.format === "yaml" ? "application/yaml" : "application/json", accept: "application/json",
    }).then(async (response) => (await response.json()) as ImportResponse),

  /** Runs the saved definition's annotations against a context, as a run would before its first step (editors). */
  annotate: (workspace: string, workflow: string, context: Record<string, unknown>) =>
    http.post<AnnotateResult>(`${one(workspace, workflow)}/annotate`, { context }),
};

type Json = unknown;
const isObject = (value: Json): value is Record<string, Json> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The JSON Merge Patch that turns `before` into `after`: changed members only, objects member by
 * member, removed members as null, anything else (arrays, values) replaced whole. Undefined means no change.
 */
export function mergePatch(before: Json, after: Json): Json | undefined {
  if (isObject(before) && isObject(after)) {
    const patch: Record<string, Json> = {};
    for (const key of Object.keys(before)) {
      if (!(key in after) || after[key] === undefined) {
        if (before[key] !== undefined && before[key] !== null) patch[key] = null;
      }
    }
    for (const [key, value] of Object.entries(after)) {
      if (value === undefined) continue;
      const change = mergePatch(before[key], value);
      if (change !== undefined) patch[key] = change;
    }
    return Object.keys(patch).length ? patch : undefined;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return undefined;
  // A value replacing an object is sent whole; an object replacing a non-object carries no nulls to drop.
  return after === undefined ? null : after;
}
