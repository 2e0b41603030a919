// Typed calls of the administration endpoints: secrets, service accounts and API keys, members,
// invitations, teams, the workspace's settings, and the pages reached from a link (invitation, password reset).
import { http, setCsrfToken, type Page } from "./client";
import type { Actor, User, WorkspaceRole } from "./types";

const ws = (workspace: string) => `/api/v1/workspaces/${encodeURIComponent(workspace)}`;
const id = (value: string) => encodeURIComponent(value);
const ifMatch = (version: number) => ({ headers: { "If-Match": `"${version}"` } });

function page<T>(path: string, link: string | null | undefined, signal?: AbortSignal, query?: Record<string, string | number | undefined>) {
  return link ? http.get<Page<T>>(link, { signal }) : http.get<Page<T>>(path, { query: { limit: 50, ...query }, signal });
}

export const workspaceRoles: WorkspaceRole[] = ["owner", "admin", "editor", "operator", "viewer"];

export interface Secret {
  id: string;
  name: string;
  description: string | null;
  version: number;
  createdBy: Actor | null;
  updatedBy: Actor | null;
  createdAt: string;
  updatedAt: string;
}

export interface ServiceAccount {
  id: string;
  workspaceId: string;
  name: string;
  description: string | null;
  role: WorkspaceRole;
  status: "active" | "disabled";
  activeKeys: number;
  createdBy: Actor | null;
  updatedBy: Actor | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  role: WorkspaceRole;
  /** The first characters of the secret, to recognise the key. */
  prefix: string;
  status: "active" | "expired" | "revoked";
  workspaceId: string | null;
  owner: Actor;
  createdBy: Actor | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** A new key with its secret, which the API shows this once. */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

export interface UserSummary {
  id: string;
  email: string;
  displayName: string;
  avatarUrl: string | null;
  status: string;
}

export interface Member {
  user: UserSummary;
  role: WorkspaceRole;
  addedBy: Actor | null;
  createdAt: string;
  updatedAt: string;
}

export interface Invitation {
  id: string;
  workspaceId: string;
  email: string;
  role: WorkspaceRole;
  status: "pending" | "accepted" | "expired" | "revoked";
  invitedBy: Actor | null;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  acceptedBy: Actor | null;
  revokedAt: string | null;
}

export interface CreatedInvitation extends Invitation {
  /** `email` when Cadre mailed the link; `none` when it did not and the link is to be passed on. */
  delivery: "email" | "none";
  token: string | null;
  link: string | null;
}

export interface Team {
  id: string;
  workspaceId: string;
  name: string;
  description: string | null;
  memberCount: number;
  createdBy: Actor | null;
  updatedBy: Actor | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface TeamMember {
  user: UserSummary;
  addedBy: Actor | null;
  createdAt: string;
}

export interface WorkspaceDetails {
  id: string;
  name: string;
  displayName: string;
  settings: Record<string, unknown>;
  createdBy: Actor | null;
  updatedBy: Actor | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface InvitationPreview {
  workspace: string;
  workspaceDisplayName: string;
  email: string;
  role: WorkspaceRole;
  invitedBy: Actor | null;
  expiresAt: string;
  accountExists: boolean;
}

export interface AcceptedInvitation {
  user: User;
  workspace: string;
  role: WorkspaceRole;
  accountCreated: boolean;
  csrfToken: string | null;
}

export const admin = {
  secrets: (workspace: string, options: { q?: string; link?: string | null }, signal?: AbortSignal) =>
    page<Secret>(`${ws(workspace)}/secrets`, options.link, signal, { q: options.q || undefined }),
  createSecret: (workspace: string, body: { name: string; value: string; description?: string }) => http.post<Secret>(`${ws(workspace)}/secrets`, body),
  updateSecret: (workspace: string, secret: Secret, body: { value?: string; description?: string }) =>
    http.patch<Secret>(`${ws(workspace)}/secrets/${id(secret.name)}`, body, ifMatch(secret.version)),
  deleteSecret: (workspace: string, secret: Secret) => http.delete<void>(`${ws(workspace)}/secrets/${id(secret.name)}`),

  serviceAccounts: (workspace: string, link?: string | null, signal?: AbortSignal) => page<ServiceAccount>(`${ws(workspace)}/service-accounts`, link, signal),
  createServiceAccount: (workspace: string, body: { name: string; role: string; description?: string }) =>
    http.post<ServiceAccount>(`${ws(workspace)}/service-accounts`, body),
  updateServiceAccount: (workspace: string, account: ServiceAccount, body: { name?: string; description?: string; role?: string; status?: string }) =>
    http.patch<ServiceAccount>(`${ws(workspace)}/service-accounts/${id(account.id)}`, body, ifMatch(account.version)),
  deleteServiceAccount: (workspace: string, account: ServiceAccount) => http.delete<void>(`${ws(workspace)}/service-accounts/${id(account.id)}`),
  createServiceAccountKey: (workspace: string, account: string, body: { name: string; role?: string; expiresAt?: string }) =>
    http.post<CreatedApiKey>(`${ws(workspace)}/service-accounts/${id(account)}/api-keys`, body),
  apiKeys: (workspace: string, options: { status?: string; link?: string | null }, signal?: AbortSignal) =>
    page<ApiKey>(`${ws(workspace)}/api-keys`, options.link, signal, { status: options.status || undefined, limit: 100 }),
  revokeApiKey: (workspace: string, key: ApiKey) => http.delete<ApiKey>(`${ws(workspace)}/api-keys/${id(key.id)}`),

  members: (workspace: string, options: { search?: string; link?: string | null }, signal?: AbortSignal) =>
    page<Member>(`${ws(workspace)}/members`, options.link, signal, { search: options.search || undefined }),
  addMember: (workspace: string, body: { email: string; role: string }) => http.post<Member>(`${ws(workspace)}/members`, body),
  updateMember: (workspace: string, userId: string, role: string) => http.patch<Member>(`${ws(workspace)}/members/${id(userId)}`, { role }),
  removeMember: (workspace: string, userId: string) => http.delete<void>(`${ws(workspace)}/members/${id(userId)}`),
  transferOwnership: (workspace: string, userId: string) => http.post<unknown>(`${ws(workspace)}/transfer-ownership`, { userId }),

  invitations: (workspace: string, options: { status?: string; link?: string | null }, signal?: AbortSignal) =>
    page<Invitation>(`${ws(workspace)}/invitations`, options.link, signal, { status: options.status || undefined }),
  invite: (workspace: string, body: { email: string; role: string }) => http.post<CreatedInvitation>(`${ws(workspace)}/invitations`, body),
  revokeInvitation: (workspace: string, invitation: Invitation) => http.delete<void>(`${ws(workspace)}/invitations/${id(invitation.id)}`),

  teams: (workspace: string, link?: string | null, signal?: AbortSignal) => page<Team>(`${ws(workspace)}/teams`, link, signal, { limit: 100 }),
  createTeam: (workspace: string, body: { name: string; description?: string }) => http.post<Team>(`${ws(workspace)}/teams`, body),
  updateTeam: (workspace: string, team: Team, body: { name?: string; description?: string }) =>
    http.patch<Team>(`${ws(workspace)}/teams/${id(team.id)}`, body, ifMatch(team.version)),
  deleteTeam: (workspace: string, team: Team) => http.delete<void>(`${ws(workspace)}/teams/${id(team.id)}`),
  teamMembers: (workspace: string, team: string) => page<TeamMember>(`${ws(workspace)}/teams/${id(team)}/members`, null, undefined, { limit: 100 }),
  addTeamMember: (workspace: string, team: string, userId: string) => http.put<unknown>(`${ws(workspace)}/teams/${id(team)}/members/${id(userId)}`),
  removeTeamMember: (workspace: string, team: string, userId: string) => http.delete<void>(`${ws(workspace)}/teams/${id(team)}/members/${id(userId)}`),

  workspace: (workspace: string, signal?: AbortSignal) => http.get<WorkspaceDetails>(ws(workspace), { signal }),
  updateWorkspace: (workspace: WorkspaceDetails, body: { name?: string; displayName?: string; settings?: Record<string, unknown> }) =>
    http.patch<WorkspaceDetails>(ws(workspace.name), body, ifMatch(workspace.version)),
  deleteWorkspace: (workspace: WorkspaceDetails) => http.delete<void>(ws(workspace.name), ifMatch(workspace.version)),

  previewInvitation: (token: string) => http.post<InvitationPreview>("/api/v1/invitations/preview", { token }),
  async acceptInvitation(body: { token: string; displayName?: string; password?: string }) {
    const accepted = await http.post<AcceptedInvitation>("/api/v1/invitations/accept", body);
    if (accepted.csrfToken) setCsrfToken(accepted.csrfToken);
    return accepted;
  },
  resetPassword: (body: { token: string; password: string }) => http.post<void>("/api/v1/auth/reset-password", body),
  forgotPassword: (email: string) => http.post<void>("/api/v1/auth/forgot-password", { email }),
};
