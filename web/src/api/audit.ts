// The workspace's audit log (docs/audit.md): typed calls over `http`, and the export's address.
import { buildUrl, http, type Page } from "./client";

export interface AuditEntry {
  id: string;
  workspaceId: string | null;
  workspaceName: string | null;
  at: string;
  actor: {
    kind: "user" | "service_account" | "instance_key" | "anonymous" | string;
    id: string | null;
    name: string | null;
    email: string | null;
    via: "session" | "api_key" | "password" | "none" | string;
    keyId: string | null;
    keyPrefix: string | null;
  };
  action: string;
  resource: { type: string; id: string | null; name: string | null } | null;
  request: { method: string; path: string; status: number; clientIp: string | null; userAgent: string | null; traceId: string | null };
  details: Record<string, unknown> | null;
}

/** The filters the list and the export share; each empty one means any. */
export interface AuditFilters {
  actor?: string;
  action?: string;
  resourceType?: string;
  resourceId?: string;
  from?: string;
  to?: string;
  status?: string;
}

export const auditFilterNames = ["actor", "action", "resourceType", "resourceId", "from", "to", "status"] as const;

const audit = (workspace: string) => `/api/v1/workspaces/${encodeURIComponent(workspace)}/audit`;

export const auditApi = {
  list: (workspace: string, filters: AuditFilters, options: { limit?: number; link?: string | null }, signal?: AbortSignal) =>
    options.link
      ? http.get<Page<AuditEntry>>(options.link, { signal })
      : http.get<Page<AuditEntry>>(audit(workspace), { query: { ...filters, limit: options.limit }, signal }),

  /** Where the browser downloads the export (the session cookie authorises a GET; the server names the file). */
  exportUrl: (workspace: string, filters: AuditFilters, format: "csv" | "ndjson") => buildUrl(`${audit(workspace)}/export`, { ...filters, format }),
};
