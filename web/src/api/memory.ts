// Typed calls of a persona's memory: the notes its agents remember (src/Cadre.Server/Llm/MemoryEndpoints.cs,
// docs/models.md "Memory").
import { http, type Page } from "./client";
import type { Actor } from "./types";

const base = (workspace: string, persona: string) =>
  `/api/v1/workspaces/${encodeURIComponent(workspace)}/personas/${encodeURIComponent(persona)}/memory`;

export interface MemoryNote {
  id: string;
  personaId: string;
  /** The run of a session note (memory mode `session`); null for the persona's persistent notes. */
  runId: string | null;
  content: string;
  /** `person` (added here or through the API), `agent` (memory_write) or `auto` (auto-memory). */
  source: string;
  createdBy: Actor | null;
  createdAt: string;
  updatedAt: string;
}

export const memoryApi = {
  list: (workspace: string, persona: string, link: string | null, signal?: AbortSignal) =>
    link ? http.get<Page<MemoryNote>>(link, { signal }) : http.get<Page<MemoryNote>>(base(workspace, persona), { query: { limit: 50 }, signal }),
  create: (workspace: string, persona: string, content: string) => http.post<MemoryNote>(base(workspace, persona), { content }),
  update: (workspace: string, persona: string, note: string, content: string) =>
    http.patch<MemoryNote>(`${base(workspace, persona)}/${encodeURIComponent(note)}`, { content }),
  remove: (workspace: string, persona: string, note: string) => http.delete<void>(`${base(workspace, persona)}/${encodeURIComponent(note)}`),
  clear: (workspace: string, persona: string) => http.delete<void>(base(workspace, persona)),
};
