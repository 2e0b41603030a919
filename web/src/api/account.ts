// Typed calls of /api/v1/me: your profile, your password and your personal API keys.
import { http, type Page } from "./client";
import type { ApiKey, CreatedApiKey } from "./admin";
import type { User } from "./types";

export const accountApi = {
  updateProfile: (body: { displayName?: string; avatarUrl?: string }) => http.patch<User>("/api/v1/me", body),
  /** Ends every other session; the caller then asks /me for the new session's CSRF token. */
  changePassword: (body: { currentPassword: string; newPassword: string }) => http.post<User>("/api/v1/me/password", body),
  apiKeys: (link: string | null, signal?: AbortSignal) =>
    link ? http.get<Page<ApiKey>>(link, { signal }) : http.get<Page<ApiKey>>("/api/v1/me/api-keys", { query: { limit: 50 }, signal }),
  createApiKey: (body: { name: string; workspace?: string; role?: string; expiresAt?: string }) => http.post<CreatedApiKey>("/api/v1/me/api-keys", body),
  revokeApiKey: (keyId: string) => http.delete<ApiKey>(`/api/v1/me/api-keys/${encodeURIComponent(keyId)}`),
};
