// Typed calls of the building blocks' endpoints (the API's "Models" tag): skills, guardrails and model providers.
import { http, type Page } from "./client";
import type { Actor } from "./types";

const ws = (workspace: string) => `/api/v1/workspaces/${encodeURIComponent(workspace)}`;
const id = (value: string) => encodeURIComponent(value);

/** A list's first page, or the page a `next`/`previous` link names. */
function page<T>(path: string, link: string | null | undefined, signal?: AbortSignal, query?: Record<string, string | number | undefined>) {
  return link ? http.get<Page<T>>(link, { signal }) : http.get<Page<T>>(path, { query: { limit: 50, ...query }, signal });
}

/** People who must approve each call of a skill's tools (a step's approval shape). */
export interface ApprovalSpec {
  approvers?: string[] | null;
  quorum?: number | null;
  timeout?: string | null;
  onTimeout?: string | null;
  [field: string]: unknown;
}

export type SkillKind = "http" | "mcp";

export interface Skill {
  id: string;
  name: string;
  description: string;
  kind: SkillKind | string;
  config: Record<string, unknown>;
  /** The auth header's name when one is set; its value never leaves the server. */
  authHeader: string | null;
  tags: string[];
  approval: ApprovalSpec | null;
  version: number;
  createdBy: Actor | null;
  updatedBy: Actor | null;
  createdAt: string;
  updatedAt: string;
}

export interface SkillRequest {
  name?: string;
  description?: string;
  kind?: string;
  config?: Record<string, unknown>;
  /** A header sent with every call; its value is write-only, and an empty value removes it. */
  auth?: { header: string; value: string };
  tags?: string[];
  approval?: ApprovalSpec;
}

export type GuardrailStage = "input" | "output" | "both";
export type GuardrailAction = "block" | "redact" | "warn";
export const guardrailKinds = ["max_length", "deny_pattern", "require_pattern", "deny_topic", "json_schema", "pii", "llm_judge"] as const;
export type GuardrailKind = (typeof guardrailKinds)[number];
/** Kinds whose finding can be cut out of the text; the others can only block or warn. */
export const redactableKinds: readonly string[] = ["max_length", "deny_pattern", "deny_topic", "pii"];

export interface Guardrail {
  id: string;
  name: string;
  description: string | null;
  stage: GuardrailStage;
  kind: GuardrailKind | string;
  config: Record<string, unknown>;
  action: GuardrailAction;
  tags: string[];
  version: number;
  createdBy: Actor | null;
  updatedBy: Actor | null;
  createdAt: string;
  updatedAt: string;
}

export interface GuardrailRequest {
  name?: string;
  description?: string;
  stage?: string;
  kind?: string;
  config?: Record<string, unknown>;
  action?: string;
  tags?: string[];
}

export const providerKinds = ["openai", "anthropic", "mock"] as const;

export interface Provider {
  /** Null for an instance provider (configured by the operator, read-only here). */
  id: string | null;
  name: string;
  kind: string;
  scope: "workspace" | "instance";
  baseUrl: string | null;
  apiKeySet: boolean;
  /** The key's last four characters, when a key is set. */
  apiKeyHint: string | null;
  defaultModel: string | null;
  timeout: string;
  maxRetries: number;
  version: number;
  createdBy: Actor | null;
  updatedBy: Actor | null;
  createdAt: string | null;
  updatedAt: string | null;
}

export interface ProviderRequest {
  name?: string;
  kind?: string;
  baseUrl?: string;
  /** Write-only; on PATCH an empty string removes the key. */
  apiKey?: string;
  defaultModel?: string;
  timeout?: string;
  maxRetries?: number;
}

export interface ProviderTest {
  ok: boolean;
  model: string;
  latencyMs: number;
  answer: string | null;
  error: string | null;
}

/** What a model costs, in US dollars per million tokens; `workspace` prices are the workspace's own over the built-in list. */
export interface ModelPrice {
  model: string;
  input: number;
  output: number;
  cachedInput: number;
  source: "builtin" | "workspace" | string;
}

/** A model's name in a path: its slashes stay (the route takes the rest of the path), each part escaped. */
const modelPath = (model: string) => model.split("/").map(encodeURIComponent).join("/");

export const blocks = {
  skills: (workspace: string, link?: string | null, signal?: AbortSignal) => page<Skill>(`${ws(workspace)}/skills`, link, signal),
  createSkill: (workspace: string, body: SkillRequest) => http.post<Skill>(`${ws(workspace)}/skills`, body),
  updateSkill: (workspace: string, skill: Skill, body: SkillRequest) =>
    http.patch<Skill>(`${ws(workspace)}/skills/${id(skill.id)}`, body, { headers: { "If-Match": `"${skill.version}"` } }),
  deleteSkill: (workspace: string, skill: Skill) => http.delete<void>(`${ws(workspace)}/skills/${id(skill.id)}`),

  guardrails: (workspace: string, link?: string | null, signal?: AbortSignal) => page<Guardrail>(`${ws(workspace)}/guardrails`, link, signal),
  createGuardrail: (workspace: string, body: GuardrailRequest) => http.post<Guardrail>(`${ws(workspace)}/guardrails`, body),
  updateGuardrail: (workspace: string, guardrail: Guardrail, body: GuardrailRequest) =>
    http.patch<Guardrail>(`${ws(workspace)}/guardrails/${id(guardrail.id)}`, body, { headers: { "If-Match": `"${guardrail.version}"` } }),
  deleteGuardrail: (workspace: string, guardrail: Guardrail) => http.delete<void>(`${ws(workspace)}/guardrails/${id(guardrail.id)}`),

  providers: (workspace: string, link?: string | null, signal?: AbortSignal) => page<Provider>(`${ws(workspace)}/providers`, link, signal, { limit: 100 }),
  createProvider: (workspace: string, body: ProviderRequest) => http.post<Provider>(`${ws(workspace)}/providers`, body),
  updateProvider: (workspace: string, provider: Provider, body: ProviderRequest) =>
    http.patch<Provider>(`${ws(workspace)}/providers/${id(provider.id ?? provider.name)}`, body, { headers: { "If-Match": `"${provider.version}"` } }),
  deleteProvider: (workspace: string, provider: Provider) => http.delete<void>(`${ws(workspace)}/providers/${id(provider.id ?? provider.name)}`),
  prices: (workspace: string, signal?: AbortSignal) => http.get<ModelPrice[]>(`${ws(workspace)}/prices`, { signal }),
  setPrice: (workspace: string, model: string, body: { input?: number | string; output?: number | string; cachedInput?: number | string }) =>
    http.put<ModelPrice>(`${ws(workspace)}/prices/${modelPath(model)}`, body),
  deletePrice: (workspace: string, model: string) => http.delete<void>(`${ws(workspace)}/prices/${modelPath(model)}`),
  testProvider: (workspace: string, provider: string, model?: string) =>
    http.post<ProviderTest>(`${ws(workspace)}/providers/${id(provider)}/test`, model ? { model } : {}),
};
