// Typed calls of the endpoints the UI uses, one function each.
import { http, setCsrfToken, type Page } from "./client";
import type { Me, SignedIn, Workspace, WorkflowSummary } from "./types";

const ws = (workspace: string) => `/api/v1/workspaces/${encodeURIComponent(workspace)}`;

export const api = {
  setupStatus: () => http.get<{ required: boolean }>("/api/v1/setup"),

  async completeSetup(request: { code: string; email: string; displayName: string; password: string }) {
    const signedIn = await http.post<SignedIn>("/api/v1/setup", request);
    setCsrfToken(signedIn.csrfToken);
    return signedIn;
  },

  async login(email: string, password: string) {
    const signedIn = await http.post<SignedIn>("/api/v1/auth/login", { email, password });
    setCsrfToken(signedIn.csrfToken);
    return signedIn;
  },

  async logout() {
    await http.post<void>("/api/v1/auth/logout");
    setCsrfToken(null);
  },

  async me() {
    const me = await http.get<Me>("/api/v1/me");
    setCsrfToken(me.csrfToken);
    return me;
  },

  workspaces: () => http.get<Page<Workspace>>("/api/v1/workspaces", { query: { limit: 100 } }),

  createWorkspace: (request: { name: string; displayName: string }) => http.post<Workspace>("/api/v1/workspaces", request),

  /** A page of workflows: the first with `q`, or the page a `next`/`previous` link names. */
  workflows: (workspace: string, options: { q?: string; limit?: number; link?: string | null }, signal?: AbortSignal) =>
    options.link
      ? http.get<Page<WorkflowSummary>>(options.link, { signal })
      : http.get<Page<WorkflowSummary>>(`${ws(workspace)}/workflows`, { query: { q: options.q, limit: options.limit }, signal }),

  createWorkflow: (workspace: string, body: unknown) => http.post<{ id: string; name: string }>(`${ws(workspace)}/workflows`, body),

  setWorkflowActive: (workspace: string, workflow: string, active: boolean) =>
    http.post<unknown>(`${ws(workspace)}/workflows/${encodeURIComponent(workflow)}/${active ? "activate" : "deactivate"}`),
};
