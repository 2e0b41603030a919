// The workspace's files (docs/files.md): the list, one file, its download, deleting it, and the two-step upload
// the files page and the start-run dialog share.
import { http, ProblemError, type Page } from "./client";
import type { Actor } from "./types";

const files = (workspace: string) => `/api/v1/workspaces/${encodeURIComponent(workspace)}/files`;

export type FileStatus = "pending" | "ready";
export const fileStatuses: readonly FileStatus[] = ["pending", "ready"];

/** A file of the workspace; its `id` is the storage ID runs name in `attachments` and `referenceImageIds`. */
export interface StoredFile {
  id: string;
  name: string;
  contentType: string;
  size: number;
  /** The bytes' SHA-256 once ready; while pending, the declared one, if any. */
  sha256: string | null;
  status: FileStatus;
  createdBy: Actor | null;
  createdAt: string;
  /** When the upload URL stops working. */
  uploadExpiresAt: string;
  uploadedAt: string | null;
  /** When a run first used it; from then on it does not expire. */
  referencedAt: string | null;
  /** When it is deleted unless a run uses it first; null once one has. */
  expiresAt: string | null;
}

export interface UploadUrl {
  storageId: string;
  uploadUrl: string;
  method: string;
  headers: Record<string, string>;
  expiresAt: string;
  file: StoredFile;
}

export interface FileFilter {
  status?: string;
  /** Only the files this run uses. */
  run?: string;
}

export const filesApi = {
  /** A page of files, newest first (or the page a `next`/`previous` link names). */
  list: (workspace: string, filter: FileFilter, link: string | null, signal?: AbortSignal) =>
    link
      ? http.get<Page<StoredFile>>(link, { signal })
      : http.get<Page<StoredFile>>(files(workspace), { query: { status: filter.status, run: filter.run, limit: 50 }, signal }),

  get: (workspace: string, id: string, signal?: AbortSignal) => http.get<StoredFile>(`${files(workspace)}/${encodeURIComponent(id)}`, { signal }),

  /** Where a ready file downloads from: a plain link, so the browser saves it with the session cookie and the file's own name. */
  contentUrl: (workspace: string, id: string) => `${files(workspace)}/${encodeURIComponent(id)}/content`,

  /** Deletes the bytes and the record; 409 while a run that uses the file is in progress. */
  remove: (workspace: string, id: string) => http.delete<void>(`${files(workspace)}/${encodeURIComponent(id)}`),

  /**
   * Uploads a file the two-step way: declare it (name, type, size, SHA-256), then PUT the bytes to the signed URL
   * the answer gives. Returns the ready file, whose ID a run's attachments name.
   */
  async upload(workspace: string, file: File): Promise<StoredFile> {
    const contentType = file.type || "application/octet-stream";
    const sha256 = await digest(file);
    const declared = await http.post<UploadUrl>(`${files(workspace)}/upload-url`, { name: file.name, contentType, size: file.size, sha256 });
    let response: Response;
    try {
      // The signed URL is the credential; the session cookie is not sent with it.
      response = await fetch(declared.uploadUrl, { method: declared.method || "PUT", headers: declared.headers, body: file, credentials: "omit" });
    } catch {
      throw new ProblemError({ title: "The upload did not reach Cadre", status: 0, detail: `Sending ${file.name} failed; try again.` });
    }
    if (!response.ok) {
      let problem = { title: `Uploading ${file.name} failed`, status: response.status } as ProblemError["problem"];
      try { problem = { ...problem, ...(await response.json()) }; } catch { /* not a problem body */ }
      throw new ProblemError(problem);
    }
    return (await response.json()) as StoredFile;
  },
};

/** The file's SHA-256 in hex, so the server checks the bytes arrived whole; none where the browser has no Web Crypto (plain HTTP). */
async function digest(file: File): Promise<string | undefined> {
  if (!window.crypto?.subtle) return undefined;
  const hash = await window.crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A size in bytes as people read it: "812 B", "48.2 KiB", "3.1 MiB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
