// Typed calls of the instance administration endpoints (instance owners and admins): accounts, nodes,
// the encryption key ring and the instance's audit log.
import { buildUrl, http, type Page } from "./client";
import type { AuditEntry, AuditFilters } from "./audit";
import type { User } from "./types";

export interface Node {
  id: string;
  name: string;
  role: string;
  version: string;
  startedAt: string;
  lastHeartbeatAt: string;
  tasksInFlight: number;
  status: "live" | "dead" | "stopped";
  stoppedAt: string | null;
}

export interface EncryptionStatus {
  keyId: string;
  source: string;
  secrets: number;
  keys: { keyId: string; current: boolean; readable: boolean; secrets: number }[];
}

export interface EncryptionRotation {
  keyId: string;
  reEncrypted: number;
  alreadyCurrent: number;
  failed: { workspace: string; secret: string; reason: string }[];
}

export interface OneTimeLink {
  delivery: string;
  link: string | null;
  expiresAt: string;
}

/** The instance log's filters: the workspace's, and which workspace (an ID, a name, or `none` for instance-level entries). */
export type InstanceAuditFilters = AuditFilters & { workspace?: string };

const users = "/api/v1/users";

export const instanceApi = {
  users: (options: { search?: string; status?: string; link?: string | null }, signal?: AbortSignal) =>
    options.link
      ? http.get<Page<User>>(options.link, { signal })
      : http.get<Page<User>>(users, { query: { limit: 50, search: options.search, status: options.status }, signal }),
  createUser: (body: { email: string; displayName: string; password?: string; instanceRole?: string }) => http.post<User>(users, body),
  updateUser: (user: User, body: { status?: string; instanceRole?: string }) =>
    http.patch<User>(`${users}/${encodeURIComponent(user.id)}`, body, { headers: { "If-Match": `"${user.version}"` } }),
  passwordReset: (userId: string) => http.post<OneTimeLink>(`${users}/${encodeURIComponent(userId)}/password-reset`),

  nodes: (status: string, signal?: AbortSignal) =>
    http.get<Page<Node>>("/api/v1/admin/nodes", { query: { limit: 100, status }, signal }),

  encryption: (signal?: AbortSignal) => http.get<EncryptionStatus>("/api/v1/admin/encryption", { signal }),
  rotate: () => http.post<EncryptionRotation>("/api/v1/admin/encryption/rotate"),

  audit: (filters: InstanceAuditFilters, options: { limit?: number; link?: string | null }, signal?: AbortSignal) =>
    options.link
      ? http.get<Page<AuditEntry>>(options.link, { signal })
      : http.get<Page<AuditEntry>>("/api/v1/admin/audit", { query: { ...filters, limit: options.limit }, signal }),
  auditExportUrl: (filters: InstanceAuditFilters, format: "csv" | "ndjson") => buildUrl("/api/v1/admin/audit/export", { ...filters, format }),
};
