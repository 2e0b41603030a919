// The workspace's events and event types (docs/workflows.md, "Events"): typed calls over `http`.
import { http, type Page } from "./client";
import type { Actor } from "./types";

/** A run an event started (or, per workflow, why it did not start one). */
export interface EventRun {
  workflowId: string;
  workflow: string;
  runId: string | null;
  displayId: string | null;
  status: string | null;
  replay: number;
  error: string | null;
  personaId?: string | null;
}

export interface CadreEvent {
  id: string;
  type: string;
  source: string | null;
  payload: unknown;
  /** The sender's ID for the event (its idempotency key), or an emit_event step's key. */
  externalId: string | null;
  origin: "api" | "run" | "cadre" | string;
  occurredAt: string;
  createdAt: string;
  receivedBy: Actor | null;
  emittedByRun: string | null;
  emittedByStep: string | null;
  replays: number;
  dispatchedAt: string | null;
  runs: EventRun[];
}

export interface EventType {
  id: string | null;
  name: string;
  description: string | null;
  schema: Record<string, unknown>;
  builtIn: boolean;
  version: number;
  createdAt: string | null;
  updatedAt: string | null;
}

export interface EventFilters {
  type?: string;
  origin?: string;
  source?: string;
}

export interface EventTypeRequest {
  name?: string;
  description?: string | null;
  schema?: Record<string, unknown>;
}

const eventTypes = (workspace: string) => `/api/v1/workspaces/${encodeURIComponent(workspace)}/event-types`;
const events = (workspace: string) => `/api/v1/workspaces/${encodeURIComponent(workspace)}/events`;

export const eventsApi = {
  /** A page of events: the first with the filters, or the page a `next`/`previous` link names. */
  list: (workspace: string, filters: EventFilters, options: { limit?: number; link?: string | null }, signal?: AbortSignal) =>
    options.link
      ? http.get<Page<CadreEvent>>(options.link, { signal })
      : http.get<Page<CadreEvent>>(events(workspace), { query: { ...filters, limit: options.limit }, signal }),

  get: (workspace: string, id: string, signal?: AbortSignal) => http.get<CadreEvent>(`${events(workspace)}/${encodeURIComponent(id)}`, { signal }),

  send: (workspace: string, body: { type: string; source?: string; id?: string; payload?: unknown }) => http.post<CadreEvent>(events(workspace), body),

  replay: (workspace: string, id: string) => http.post<CadreEvent>(`${events(workspace)}/${encodeURIComponent(id)}/replay`),

  /** Built-in and custom event types (one page of up to 100, which covers a workspace's types). */
  types: (workspace: string, signal?: AbortSignal) =>
    http.get<Page<EventType>>(eventTypes(workspace), { query: { limit: 100 }, signal }),

  /** Defines a workspace's own type (editors); the schema is checked by the API (422 `schema`). */
  createType: (workspace: string, body: EventTypeRequest) => http.post<EventType>(eventTypes(workspace), body),

  /** Changes a custom type's description or schema at the version shown (a 412 when someone changed it meanwhile). */
  updateType: (workspace: string, type: EventType, body: Omit<EventTypeRequest, "name">) =>
    http.patch<EventType>(`${eventTypes(workspace)}/${encodeURIComponent(type.name)}`, body, { headers: { "If-Match": `"${type.version}"` } }),

  /** Deletes a custom type; a 409 names the workflows that start on it. */
  deleteType: (workspace: string, name: string) => http.delete<void>(`${eventTypes(workspace)}/${encodeURIComponent(name)}`),
};
