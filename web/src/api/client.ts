// The one way the UI talks to Cadre: fetch with the session cookie, the CSRF token on writes,
// and every error answer turned into a ProblemError carrying the API's RFC 9457 problem details.

/** An RFC 9457 problem as Cadre answers it (docs/api.md, "Errors"). */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  traceId?: string;
  /** Field → messages, on 400 and 422. */
  errors?: Record<string, string[]>;
}

/** A request the API refused (or that never reached it: status 0). */
export class ProblemError extends Error {
  readonly problem: Problem;
  readonly retryAfter: string | null;

  constructor(problem: Problem, retryAfter: string | null = null) {
    super(problem.detail ?? problem.title);
    this.name = "ProblemError";
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  get status(): number {
    return this.problem.status;
  }
}

/** Cadre's list envelope (docs/api.md, "Lists and pagination"). */
export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

const csrfHeader = "X-CSRF-Token";
let csrfToken: string | null = null;

/** Remembers the token the sign-in, setup, /me or /auth/csrf answer carried. */
export function setCsrfToken(token: string | null | undefined): void {
  csrfToken = token ?? null;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Makes `path` (absolute or under the origin) into a URL on this origin, with the query's set values. */
export function buildUrl(path: string, query?: RequestOptions["query"]): string {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  // The API's next/previous links are absolute; keep only path and query, so a proxy in front stays in front.
  return url.pathname + url.search;
}

/**
 * One exchange with the API: the session cookie, the CSRF token on writes (fetched afresh once when the API calls it
 * stale), and any answer but a success thrown as a ProblemError.
 */
async function exchange(method: Method, path: string, init: { headers: Record<string, string>; body?: string; signal?: AbortSignal }, retried = false): Promise<Response> {
  const headers = { ...init.headers };
  if (method !== "GET" && csrfToken) headers[csrfHeader] = csrfToken;

  let response: Response;
  try {
    response = await fetch(path, { method, headers, credentials: "same-origin", body: init.body, signal: init.signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ProblemError({ title: "Cadre cannot be reached", status: 0, detail: "The server did not answer. Check that it is running and try again." });
  }

  // A session write whose token went stale (another tab signed in again): fetch a fresh one and try once more.
  if (response.status === 403 && method !== "GET" && !retried) {
    const problem = await readProblem(response);
    if (/csrf|antiforgery/i.test(`${problem.title} ${problem.detail ?? ""}`)) {
      const fresh = await send<{ csrfToken: string }>("GET", "/api/v1/auth/csrf");
      setCsrfToken(fresh.csrfToken);
      return exchange(method, path, init, true);
    }
    throw new ProblemError(problem, response.headers.get("Retry-After"));
  }

  if (!response.ok) throw new ProblemError(await readProblem(response), response.headers.get("Retry-After"));
  return response;
}

async function send<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await exchange(method, buildUrl(path, options.query), {
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * A request whose body or answer is not JSON (a CSV or YAML import, a YAML export, a persona's card): the body is sent
 * as written with its content type, and the answer comes back as it is, headers and all. Errors are ProblemErrors as for `http`.
 */
export function sendRaw(method: "GET" | "POST", path: string, init: { body?: string; contentType?: string; accept: string; signal?: AbortSignal }): Promise<Response> {
  const headers: Record<string, string> = { Accept: init.accept };
  if (init.contentType) headers["Content-Type"] = init.contentType;
  return exchange(method, buildUrl(path), { headers, body: init.body, signal: init.signal });
}

async function readProblem(response: Response): Promise<Problem> {
  const fallback: Problem = { title: response.statusText || "Request failed", status: response.status };
  try {
    const body = (await response.json()) as Partial<Problem>;
    return { ...fallback, ...body, status: body.status ?? response.status, title: body.title ?? fallback.title };
  } catch {
    return fallback;
  }
}

export const http = {
  get: <T>(path: string, options?: RequestOptions) => send<T>("GET", path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => send<T>("POST", path, { ...options, body }),
  patch: <T>(path: string, body?: unknown, options?: RequestOptions) => send<T>("PATCH", path, { ...options, body }),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) => send<T>("PUT", path, { ...options, body }),
  delete: <T>(path: string, options?: RequestOptions) => send<T>("DELETE", path, options),
};
