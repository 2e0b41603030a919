// Personas: the contracts of src/Cadre.Core/Personas/*Contracts.cs and one typed call per endpoint
// of src/Cadre.Server/Personas/PersonaEndpoints.cs (docs/personas.md).
import { buildUrl, http, ProblemError, sendRaw, type Page, type Problem } from "./client";
import type { Actor, BulkItemError, FieldChange, ImportResponse } from "./types";

export type { BulkItemError, FieldChange, ImportItemResult, ImportResponse } from "./types";

const ws = (workspace: string) => `/api/v1/workspaces/${encodeURIComponent(workspace)}`;
const one = (workspace: string, persona: string) => `${ws(workspace)}/personas/${encodeURIComponent(persona)}`;

export interface PersonaExample { input?: string | null; output?: string | null; text?: string | null }
export type ParameterType = "string" | "number" | "boolean" | "enum" | "json";
export interface PersonaParameter {
  name?: string | null;
  type?: ParameterType | string | null;
  description?: string | null;
  default?: unknown;
  required?: boolean | null;
  values?: string[] | null;
}
export interface PersonaModel {
  provider?: string | null;
  model?: string | null;
  temperature?: number | null;
  maxTokens?: number | null;
  reasoningEffort?: string | null;
  outputFormat?: string | null;
  outputSchema?: Record<string, unknown> | null;
  maxTurns?: number | null;
}
export interface SkillReference { ref?: string | null; config?: Record<string, unknown> | null }
export interface GuardrailRule { name?: string | null; kind?: string | null; value?: string | null; action?: string | null }
export interface PersonaGuardrails { references?: string[] | null; rules?: GuardrailRule[] | null }
export interface PersonaMemory { mode?: string | null; autoMemory?: boolean | null; bypass?: boolean | null }
export interface PersonaFilter { confidenceThreshold?: number | null; issueSelectionStrategy?: string | null }
export interface PersonaScope { eventTypes?: string[] | null; sources?: string[] | null; tags?: string[] | null }
export interface PersonaVoice { id?: string | null; name?: string | null; metadata?: Record<string, unknown> | null }

/** What a persona is: the body of create and import, the document of versions and drafts. */
export interface PersonaSpec {
  name?: string | null;
  displayName?: string | null;
  description?: string | null;
  avatarUrl?: string | null;
  color?: string | null;
  icon?: string | null;
  instructions?: string | null;
  examples?: PersonaExample[] | null;
  departments?: string[] | null;
  tags?: string[] | null;
  parameters?: PersonaParameter[] | null;
  model?: PersonaModel | null;
  skills?: SkillReference[] | null;
  guardrails?: PersonaGuardrails | null;
  memory?: PersonaMemory | null;
  filter?: PersonaFilter | null;
  scope?: PersonaScope | null;
  voice?: PersonaVoice | null;
  flags?: string[] | null;
  metadata?: Record<string, unknown> | null;
}

/** The members of a PersonaSpec, in the order the editor and exports use. */
export const specFields = [
  "name", "displayName", "description", "avatarUrl", "color", "icon", "instructions", "examples", "departments", "tags",
  "parameters", "model", "skills", "guardrails", "memory", "filter", "scope", "voice", "flags", "metadata",
] as const satisfies readonly (keyof PersonaSpec)[];

export interface Persona extends PersonaSpec {
  id: string;
  workspaceId: string;
  name: string;
  version: number;
  status: "active" | "deleted";
  warnings: string[];
  createdBy: Actor | null;
  updatedBy: Actor | null;
  createdAt: string;
  updatedAt: string;
  deletedAt?: string | null;
  deletedBy?: Actor | null;
}

export interface PersonaSummary {
  id: string;
  name: string;
  displayName: string;
  description: string | null;
  avatarUrl: string | null;
  color: string | null;
  icon: string | null;
  departments: string[];
  tags: string[];
  flags: string[];
  provider: string | null;
  model: string | null;
  version: number;
  status: "active" | "deleted";
  createdBy: Actor | null;
  updatedBy: Actor | null;
  createdAt: string;
  updatedAt: string;
}

export interface PersonaVersionSummary { version: number; change: string; name: string; displayName: string; createdBy: Actor | null; createdAt: string }
export interface PersonaVersion { version: number; change: string; createdBy: Actor | null; createdAt: string; definition: PersonaSpec }
export interface PersonaDiff { from: number; to: number; changes: FieldChange[] }
export interface PersonaPreview { systemPrompt: string; parameters: Record<string, unknown> }

export interface PersonaDraft {
  personaId: string;
  personaName: string;
  owner: Actor;
  /** The draft's own revision: sent back as expectedVersion when changing it. */
  version: number;
  baseVersion: number;
  personaVersion: number;
  stale: boolean;
  definition: PersonaSpec;
  errors: Record<string, string[]>;
  warnings: string[];
  createdAt: string;
  updatedAt: string;
}

export interface PersonaDraftSummary { personaId: string; personaName: string; version: number; baseVersion: number; personaVersion: number; stale: boolean; updatedAt: string }

export interface BulkItemResult { index: number; id: string | null; status: number; error: BulkItemError | null }

export interface ProviderSummary { id: string | null; name: string; kind: string; scope: string; defaultModel: string | null }

/** The list's search, filters and order, as the address and the API name them. */
export interface PersonaFilters {
  q?: string;
  status?: string;
  sort?: string;
  department?: string;
  tag?: string;
  flag?: string;
  provider?: string;
  model?: string;
}

/** A problem's extension member, such as the `currentVersion` of a 409. */
export function problemNumber(error: unknown, member: string): number | null {
  if (!(error instanceof ProblemError)) return null;
  const value = (error.problem as Problem & Record<string, unknown>)[member];
  return typeof value === "number" ? value : null;
}

const listQuery = (f: PersonaFilters) => ({
  q: f.q, status: f.status, sort: f.sort, department: f.department, tag: f.tag, flag: f.flag, provider: f.provider, model: f.model,
});

export const personasApi = {
  list: (workspace: string, filters: PersonaFilters, options: { limit?: number; link?: string | null }, signal?: AbortSignal) =>
    options.link
      ? http.get<Page<PersonaSummary>>(options.link, { signal })
      : http.get<Page<PersonaSummary>>(`${ws(workspace)}/personas`, { query: { ...listQuery(filters), limit: options.limit }, signal }),

  /** The export's address: the browser downloads it (the API answers Content-Disposition: attachment). */
  exportUrl: (workspace: string, filters: PersonaFilters, format: "json" | "csv") =>
    buildUrl(`${ws(workspace)}/personas/export`, { ...listQuery(filters), sort: undefined, format }),

  create: (workspace: string, spec: PersonaSpec) => http.post<Persona>(`${ws(workspace)}/personas`, spec),
  get: (workspace: string, persona: string, signal?: AbortSignal) => http.get<Persona>(one(workspace, persona), { signal }),
  update: (workspace: string, persona: string, changes: PersonaSpec, ifMatch?: number) =>
    http.patch<Persona>(one(workspace, persona), changes, { headers: ifMatch === undefined ? undefined : { "If-Match": `"${ifMatch}"` } }),
  remove: (workspace: string, persona: string, permanent = false) =>
    http.delete<Persona | undefined>(one(workspace, persona), { query: { permanent: permanent || undefined } }),
  restore: (workspace: string, persona: string) => http.post<Persona>(`${one(workspace, persona)}/restore`),
  duplicate: (workspace: string, persona: string, body: { name?: string; displayName?: string }) =>
    http.post<Persona>(`${one(workspace, persona)}/duplicate`, body),
  bulkDelete: (workspace: string, items: string[]) => http.post<{ results: BulkItemResult[] }>(`${ws(workspace)}/personas/bulk-delete`, { items }),
  bulkUpdate: (workspace: string, items: { persona: string; expectedVersion?: number; changes: PersonaSpec }[]) =>
    http.post<{ results: BulkItemResult[] }>(`${ws(workspace)}/personas/bulk-update`, { items }),

  import: (workspace: string, file: { text: string; csv: boolean }, options: { mode: string; dryRun: boolean }) =>
    sendRaw("POST", buildUrl(`${ws(workspace)}/personas/import`, { mode: options.mode, dryRun: options.dryRun || undefined }), {
      body: file.text, contentType: file.csv ? "text/csv" : "application/json", accept: "application/json",
    }).then(async (response) => (await response.json()) as ImportResponse),

  versions: (workspace: string, persona: string, link?: string | null) =>
    link ? http.get<Page<PersonaVersionSummary>>(link) : http.get<Page<PersonaVersionSummary>>(`${one(workspace, persona)}/versions`, { query: { limit: 25 } }),
  version: (workspace: string, persona: string, version: number) => http.get<PersonaVersion>(`${one(workspace, persona)}/versions/${version}`),
  diff: (workspace: string, persona: string, from: number, to: number) => http.get<PersonaDiff>(`${one(workspace, persona)}/diff`, { query: { from, to } }),
  revert: (workspace: string, persona: string, version: number, ifMatch: number) =>
    http.post<Persona>(`${one(workspace, persona)}/revert`, { version }, { headers: { "If-Match": `"${ifMatch}"` } }),
  card: (workspace: string, persona: string) => sendRaw("GET", `${one(workspace, persona)}/card`, { accept: "text/markdown" }).then((response) => response.text()),
  preview: (workspace: string, persona: string, parameters: Record<string, unknown>, signal?: AbortSignal) =>
    http.post<PersonaPreview>(`${one(workspace, persona)}/preview`, { parameters }, { signal }),

  myDrafts: (workspace: string) => http.get<Page<PersonaDraftSummary>>(`${ws(workspace)}/personas/drafts`, { query: { limit: 50 } }),
  getDraft: (workspace: string, persona: string) => http.get<PersonaDraft>(`${one(workspace, persona)}/draft`),
  startDraft: (workspace: string, persona: string, expectedVersion?: number) =>
    http.post<PersonaDraft>(`${one(workspace, persona)}/draft`, expectedVersion === undefined ? {} : { expectedVersion }),
  updateDraft: (workspace: string, persona: string, expectedVersion: number, changes: Record<string, unknown>) =>
    http.patch<PersonaDraft>(`${one(workspace, persona)}/draft`, { expectedVersion, changes }),
  discardDraft: (workspace: string, persona: string) => http.delete<void>(`${one(workspace, persona)}/draft`),
  publishDraft: (workspace: string, persona: string, force = false) =>
    http.post<Persona>(`${one(workspace, persona)}/draft/publish`, force ? { force: true } : {}),

  providers: (workspace: string) => http.get<Page<ProviderSummary>>(`${ws(workspace)}/providers`, { query: { limit: 100 } }),
};

/** The definition part of a persona (what drafts, versions and PATCH carry). */
export function toSpec(persona: PersonaSpec): PersonaSpec {
  const spec: Record<string, unknown> = {};
  for (const field of specFields) {
    const value = persona[field];
    if (value !== undefined && value !== null) spec[field] = value;
  }
  return spec as PersonaSpec;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => a[k] !== undefined || b[k] !== undefined));
    return [...keys].every((k) => deepEqual(a[k] ?? null, b[k] ?? null));
  }
  return (a ?? null) === (b ?? null);
}

/**
 * The JSON Merge Patch (RFC 7396) that turns `from` into `to`: changed members set, removed ones null,
 * objects patched member by member, lists replaced whole. Empty when nothing differs.
 */
export function mergePatch(from: Record<string, unknown>, to: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) {
    const before = from[key] ?? null;
    const after = to[key] ?? null;
    if (deepEqual(before, after)) continue;
    if (isObject(before) && isObject(after)) {
      patch[key] = mergePatch(before, after);
    } else {
      patch[key] = after;
    }
  }
  return patch;
}
