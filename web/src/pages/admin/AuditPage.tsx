import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { useParams, useSearchParams } from "react-router";
import { auditApi, auditFilterNames, type AuditEntry } from "../../api/audit";
import { ProblemError, type Page } from "../../api/client";
import { RequireRole } from "../../app/RequireRole";
import { Button, type Column, EmptyState, Input, LoadFailed, Loading, Table, Time } from "../../components";

type FilterName = (typeof auditFilterNames)[number] | "workspace";

/** Where an audit log comes from: a workspace's or the instance's, with its own address, export and extra filters. */
export interface AuditSource {
  /** Changes when the log itself changes (another workspace). */
  key: string;
  filterNames: readonly FilterName[];
  list: (filters: Partial<Record<FilterName, string>>, options: { limit?: number; link?: string | null }, signal: AbortSignal) => Promise<Page<AuditEntry>>;
  exportUrl: (filters: Partial<Record<FilterName, string>>, format: "csv" | "ndjson") => string;
  /** Whether the reader may export (the list shows the API's own refusal either way). */
  canExport: boolean;
  /** The workspace every entry shares, whose path prefix is shortened away; null for the instance's log. */
  workspace: string | null;
}

/** An ISO instant as a datetime-local value in the reader's zone (yyyy-MM-ddTHH:mm), or "" when it is not one. */
function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function fromLocalInput(value: string): string {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

const via: Record<string, string> = { session: "browser session", api_key: "API key", password: "password", none: "no credential" };

/**
 * The workspace's audit log (admins; docs/audit.md): who did what to which resource, when and from where, newest
 * first. The API's filters are kept in the address; the export downloads the same entries as CSV or NDJSON.
 */
export function AuditPage() {
  const { workspace = "" } = useParams();
  const source: AuditSource = {
    key: workspace,
    filterNames: auditFilterNames,
    list: (filters, options, signal) => auditApi.list(workspace, filters, options, signal),
    exportUrl: (filters, format) => auditApi.exportUrl(workspace, filters, format),
    canExport: true,
    workspace,
  };
  return (
    <RequireRole workspace={workspace} least="admin" title="Audit log"
      why="The audit log records who did what in the workspace, from where; only its admins and owners read it.">
      <div className="page">
        <AuditLog source={source} title={<h1>Audit log</h1>} />
      </div>
    </RequireRole>
  );
}

/** An audit log's filters (kept in the address), entries page by page, and its exports. */
export function AuditLog({ source, title, notice }: { source: AuditSource; title: ReactNode; notice?: ReactNode }) {
  const [params, setParams] = useSearchParams();
  const names = source.filterNames;
  const filters = Object.fromEntries(names.map((n) => [n, params.get(n) ?? undefined]).filter(([, v]) => v)) as Partial<Record<FilterName, string>>;
  const filterKey = names.map((n) => params.get(n) ?? "").join("\u0000");
  const [draft, setDraft] = useState<Record<FilterName, string>>(() => draftOf(filters));
  const [link, setLink] = useState<string | null>(null);
  const [page, setPage] = useState<Page<AuditEntry> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [reload, setReload] = useState(0);
  const sourceRef = useRef(source);
  sourceRef.current = source;
  const fieldErrors = error instanceof ProblemError && error.status === 400 ? error.problem.errors ?? {} : {};
  const filtered = Object.keys(filters).length > 0;

  // The filters are read from the address; filterKey stands for them in the effects.
  useEffect(() => { setLink(null); setDraft(draftOf(filters)); }, [filterKey, source.key]);

  useEffect(() => {
    const abort = new AbortController();
    setLoading(true);
    sourceRef.current.list(filters, { limit: 50, link }, abort.signal)
      .then((result) => { setPage(result); setError(null); setLoading(false); })
      .catch((e: unknown) => { if (!abort.signal.aborted) { setError(e); setLoading(false); } });
    return () => abort.abort();
  }, [source.key, filterKey, link, reload]);

  const apply = (next: Partial<Record<FilterName, string>>) => {
    const query = new URLSearchParams();
    for (const name of names) {
      const value = (next[name] ?? "").trim();
      if (value) query.set(name, value);
    }
    setParams(query);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    apply({ ...draft, from: fromLocalInput(draft.from), to: fromLocalInput(draft.to) });
  };
  const narrow = (name: FilterName, value: string) => apply({ ...filters, [name]: value });
  const set = (name: FilterName) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [name]: e.target.value }));

  const columns: Column<AuditEntry>[] = [
    { key: "at", header: "When", className: "cell-nowrap", cell: (e) => <Time value={e.at} /> },
    {
      key: "actor", header: "Actor", cell: (e) => (
        <div className="cell-name">
          {e.actor.id
            ? <button type="button" className="link-button" title="Show only this actor's entries" onClick={() => narrow("actor", e.actor.id!)}>{e.actor.name ?? e.actor.id}</button>
            : <span>{e.actor.name ?? "anonymous"}</span>}
          <span className="muted">
            {e.actor.email ?? e.actor.kind.replace("_", " ")} · {via[e.actor.via] ?? e.actor.via}{e.actor.keyPrefix && <> <code>{e.actor.keyPrefix}…</code></>}
          </span>
        </div>
      ),
    },
    ...(source.workspace === null ? [{
      key: "workspace", header: "Workspace", cell: (e: AuditEntry) => (e.workspaceName ?? e.workspaceId
        ? <button type="button" className="link-button" title="Show only this workspace's entries" onClick={() => narrow("workspace", e.workspaceId ?? e.workspaceName!)}>{e.workspaceName ?? e.workspaceId}</button>
        : <span className="muted">instance</span>),
    }] : []),
    {
      key: "action", header: "Action", className: "cell-nowrap", cell: (e) => (
        <button type="button" className="link-button" title="Show only this action" onClick={() => narrow("action", e.action)}><code>{e.action}</code></button>
      ),
    },
    {
      key: "resource", header: "Resource", cell: (e) => e.resource ? (
        <div className="cell-name">
          <span><span className="badge">{e.resource.type}</span> {e.resource.name ?? ""}</span>
          {e.resource.id && (
            <button type="button" className="link-button muted" title="Show only this resource's entries"
              onClick={() => apply({ ...filters, resourceType: e.resource!.type, resourceId: e.resource!.id! })}><code>{e.resource.id}</code></button>
          )}
        </div>
      ) : <span className="muted">—</span>,
    },
    {
      key: "request", header: "Request", cell: (e) => (
        <div className="cell-name">
          <span>
            <span className="method">{e.request.method}</span>{" "}
            <span className={e.request.status >= 400 ? "status status-failed" : "status status-succeeded"}>{e.request.status}</span>
            {e.request.clientIp && <span className="muted"> from <code>{e.request.clientIp}</code></span>}
          </span>
          <code className="muted audit-path" title={e.request.path}>{shortPath(e.request.path, source.workspace ? e.workspaceName : null)}</code>
        </div>
      ),
    },
    { key: "details", header: "Changed", cell: (e) => <Details entry={e} /> },
  ];

  return (
    <>
      <header className="page-header">
        <div>
          {title}
          <p className="muted" aria-live="polite">
            {page ? `${page.count === 1 ? "1 entry" : `${page.count} entries`}${filtered ? " matching the filters" : ""} · ` : ""}
            who did what to which resource, when and from where.
          </p>
        </div>
        {source.canExport && <div className="page-actions">
          <a className="btn" href={source.exportUrl(filters, "csv")} download>Export CSV</a>
          <a className="btn" href={source.exportUrl(filters, "ndjson")} download>Export NDJSON</a>
        </div>}
      </header>

      <div className="stack">
        {notice && <p className="muted">{notice}</p>}
        <form className="filters" role="search" aria-label="Filter the audit log" onSubmit={submit}>
          <Input label="Actor ID" value={draft.actor} onChange={set("actor")} placeholder="usr_…, sa_…, key_…" errors={fieldErrors.actor} />
          <Input label="Action" value={draft.action} onChange={set("action")} placeholder="workflow.created or workflow.*" errors={fieldErrors.action} />
          <Input label="Resource type" value={draft.resourceType} onChange={set("resourceType")} placeholder="workflow" errors={fieldErrors.resourceType} />
          <Input label="Resource ID" value={draft.resourceId} onChange={set("resourceId")} errors={fieldErrors.resourceId} />
          <Input label="From" type="datetime-local" value={draft.from} onChange={set("from")} errors={fieldErrors.from} />
          <Input label="To (not including)" type="datetime-local" value={draft.to} onChange={set("to")} errors={fieldErrors.to} />
          <Input label="Status" value={draft.status} onChange={set("status")} placeholder="201 or 4xx" errors={fieldErrors.status} />
          {names.includes("workspace") && (
            <Input label="Workspace" value={draft.workspace} onChange={set("workspace")} placeholder="a name, ws_…, or none" errors={fieldErrors.workspace} />
          )}
          <div className="filter-actions">
            <Button type="submit" variant="primary">Apply filters</Button>
            {filtered && <Button onClick={() => setParams(new URLSearchParams())}>Clear</Button>}
          </div>
        </form>

        {error != null && (
          <LoadFailed error={error} onRetry={() => setReload((n) => n + 1)} />
        )}
        {error == null && loading && !page && <Loading label="Loading the audit log…" />}

        {error == null && page && page.results.length === 0 && (
          filtered ? (
            <EmptyState title="No entry matches" action={<Button onClick={() => setParams(new URLSearchParams())}>Clear the filters</Button>}>
              <p>Nothing in this log matches these filters. Actions match exactly, or by prefix with <code>*</code> (<code>workflow.*</code>); times are from (inclusive) and to (exclusive).</p>
            </EmptyState>
          ) : (
            <EmptyState title="Nothing recorded yet">
              <p>Every change made through the API (each create, update, delete, run started or approval decided), every export and every refused attempt is recorded here, with who did it and from where. Entries are kept a year.</p>
            </EmptyState>
          )
        )}

        {error == null && page && page.results.length > 0 && (
          <div className={loading ? "is-refreshing" : undefined} aria-busy={loading}>
            <Table caption="Audit log entries" columns={columns} rows={page.results} rowKey={(e) => e.id} />
            <nav className="pager" aria-label="Pages">
              <Button disabled={!page.previous || loading} onClick={() => setLink(page.previous)}>← Newer</Button>
              <Button disabled={!page.next || loading} onClick={() => setLink(page.next)}>Older →</Button>
            </nav>
          </div>
        )}
      </div>
    </>
  );
}

/** The path without the workspace's own prefix, which every entry of this log shares. */
function shortPath(path: string, workspace: string | null): string {
  const prefix = workspace ? `/api/v1/workspaces/${workspace}` : null;
  return prefix && path.startsWith(prefix) ? `…${path.slice(prefix.length)}` : path;
}

function draftOf(filters: Partial<Record<FilterName, string>>): Record<FilterName, string> {
  return {
    actor: filters.actor ?? "", action: filters.action ?? "", resourceType: filters.resourceType ?? "", resourceId: filters.resourceId ?? "",
    from: toLocalInput(filters.from), to: toLocalInput(filters.to), status: filters.status ?? "", workspace: filters.workspace ?? "",
  };
}

/** What changed (the fields a PATCH or PUT named), with the rest of the entry's details on demand. */
function Details({ entry }: { entry: AuditEntry }) {
  const details = entry.details ?? {};
  const fields = Array.isArray(details.fields) ? (details.fields as unknown[]).map(String) : [];
  const rest = Object.fromEntries(Object.entries(details).filter(([k]) => k !== "fields"));
  const hasRest = Object.keys(rest).length > 0 || entry.request.traceId;
  return (
    <div className="cell-name">
      {fields.length > 0 ? <ul className="chip-list">{fields.map((f) => <li key={f} className="chip">{f}</li>)}</ul> : !hasRest && <span className="muted">—</span>}
      {hasRest && (
        <details>
          <summary>Details</summary>
          <pre className="json-view">{JSON.stringify({ ...rest, traceId: entry.request.traceId ?? undefined, userAgent: entry.request.userAgent ?? undefined }, null, 2)}</pre>
        </details>
      )}
    </div>
  );
}
