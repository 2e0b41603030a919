import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { api } from "../api/cadre";
import { ProblemError, type Page } from "../api/client";
import type { WorkflowSummary } from "../api/types";
import { Button, Dialog, EmptyState, Input, Loading, ProblemBanner, Table, Time, useToast, type Column } from "../components";
import { useCanEdit } from "../app/permissions";

function triggerLabel(w: WorkflowSummary): string {
  switch (w.type) {
    case "event": return `Event: ${w.trigger}`;
    case "schedule": return `Schedule: ${w.trigger}`;
    case "webhook": return "Webhook";
    case "manual": return "Manual";
    default: return w.trigger;
  }
}

/** The workspace's workflows: search, pages by the API's cursor links, switch triggers on and off. */
export function WorkflowsPage() {
  const { workspace = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const [search, setSearch] = useState(q);
  const [link, setLink] = useState<string | null>(null);
  const [page, setPage] = useState<Page<WorkflowSummary> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [creating, setCreating] = useState(false);
  const [reload, setReload] = useState(0);
  const canEdit = useCanEdit(workspace);
  const toast = useToast();

  // A new search or workspace starts again at the first page.
  useEffect(() => { setLink(null); }, [q, workspace]);
  useEffect(() => { setSearch(q); }, [q]);

  // Searches as the person types, once they pause.
  useEffect(() => {
    if (search === q) return;
    const timer = window.setTimeout(() => setParams(search ? { q: search } : {}, { replace: true }), 300);
    return () => window.clearTimeout(timer);
  }, [search, q, setParams]);

  useEffect(() => {
    const abort = new AbortController();
    setLoading(true);
    api.workflows(workspace, { q: q || undefined, limit: 25, link }, abort.signal)
      .then((result) => { setPage(result); setError(null); setLoading(false); })
      .catch((e: unknown) => {
        if (abort.signal.aborted) return;
        setError(e);
        setLoading(false);
      });
    return () => abort.abort();
  }, [workspace, q, link, reload]);

  const setActive = useCallback(async (workflow: WorkflowSummary, active: boolean) => {
    const update = (isActive: boolean) => setPage((p) => p && { ...p, results: p.results.map((w) => (w.id === workflow.id ? { ...w, isActive } : w)) });
    update(active);
    try {
      await api.setWorkflowActive(workspace, workflow.id, active);
      toast.success(`${workflow.title || workflow.name} ${active ? "activated" : "deactivated"}.`);
    } catch (e) {
      update(!active);
      toast.error(e);
    }
  }, [workspace, toast]);

  const columns: Column<WorkflowSummary>[] = [
    {
      key: "name", header: "Workflow", cell: (w) => (
        <div className="cell-name">
          <Link className="strong" to={`/w/${encodeURIComponent(workspace)}/workflows/${encodeURIComponent(w.name)}`}>{w.title || w.name}</Link>
          {w.title && w.title !== w.name && <code className="muted">{w.name}</code>}
        </div>
      ),
    },
    { key: "description", header: "Description", className: "cell-description", cell: (w) => w.description || <span className="muted">—</span> },
    { key: "trigger", header: "Trigger", cell: (w) => <span className={`badge badge-${w.type}`}>{triggerLabel(w)}</span> },
    {
      key: "active", header: "Active", cell: (w) => (
        <label className="switch">
          <input type="checkbox" role="switch" checked={w.isActive} disabled={!canEdit}
            aria-label={`${w.title || w.name} active`} onChange={(e) => void setActive(w, e.target.checked)} />
          <span className="switch-track" aria-hidden="true" />
        </label>
      ),
    },
    { key: "lastRun", header: "Last run", cell: (w) => (w.lastRun ? <span className={`status status-${w.lastRun.status}`}>{w.lastRun.status}</span> : <span className="muted">Never run</span>) },
    { key: "updatedAt", header: "Updated", cell: (w) => <Time value={w.updatedAt} /> },
    { key: "createdAt", header: "Created", cell: (w) => <Time value={w.createdAt} /> },
  ];

  const createButton = canEdit && <Button variant="primary" onClick={() => setCreating(true)}>Create your first workflow</Button>;

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Workflows</h1>
          {page && <p className="muted" aria-live="polite">{page.count === 1 ? "1 workflow" : `${page.count} workflows`}{q && ` matching “${q}”`}</p>}
        </div>
        <div className="page-actions">
          <div className="search">
            <Input label="Search workflows" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name, description…" className="field-inline" />
          </div>
          {canEdit && <Button variant="primary" onClick={() => setCreating(true)}>New workflow</Button>}
        </div>
      </header>

      {error != null && (
        <div className="stack">
          <ProblemBanner error={error} />
          <div><Button onClick={() => setReload((n) => n + 1)}>Try again</Button></div>
        </div>
      )}

      {error == null && loading && !page && <Loading label="Loading workflows…" />}

      {error == null && page && page.results.length === 0 && !q && (
        <EmptyState title="No workflows yet" action={createButton}>
          <p>
            A workflow is a graph of steps — model calls, agents, HTTP requests, approvals, sleeps — that runs
            durably when it is triggered: by hand, by an event, a webhook or a schedule.
          </p>
          {!canEdit && <p>Editors of this workspace can create one.</p>}
        </EmptyState>
      )}

      {error == null && page && page.results.length === 0 && q && (
        <EmptyState title="No workflow matches" action={<Button onClick={() => setSearch("")}>Clear the search</Button>}>
          <p>Nothing here matches “{q}”. Search looks at names, titles and descriptions.</p>
        </EmptyState>
      )}

      {error == null && page && page.results.length > 0 && (
        <div className={loading ? "is-refreshing" : undefined} aria-busy={loading}>
          <Table caption="Workflows" columns={columns} rows={page.results} rowKey={(w) => w.id} />
          <nav className="pager" aria-label="Pages">
            <Button disabled={!page.previous || loading} onClick={() => setLink(page.previous)}>← Previous</Button>
            <Button disabled={!page.next || loading} onClick={() => setLink(page.next)}>Next →</Button>
          </nav>
        </div>
      )}

      <CreateWorkflowDialog workspace={workspace} open={creating} onClose={() => setCreating(false)}
        onCreated={(name) => { setCreating(false); toast.success(`Workflow ${name} created.`); setLink(null); setReload((n) => n + 1); }} />
    </div>
  );
}

/**
 * Makes a manual workflow with one starter step, ready to be shaped in the builder
 * (the builder is a later part of the UI; until then the API and the CLI edit it).
 */
function CreateWorkflowDialog({ workspace, open, onClose, onCreated }: { workspace: string; open: boolean; onClose: () => void; onCreated: (name: string) => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fieldErrors = error instanceof ProblemError ? error.problem.errors ?? {} : {};

  useEffect(() => { if (open) { setName(""); setDescription(""); setError(null); } }, [open]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await api.createWorkflow(workspace, {
        name,
        description: description || undefined,
        steps: [{ id: "start", activity: { uniqueIdentifier: "transform" }, input: { received: "{{ context.body }}" } }],
      });
      onCreated(created.name);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} title="Create a workflow" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        {error != null && <ProblemBanner error={error} />}
        <Input label="Name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus errors={fieldErrors.name}
          hint="Lowercase letters, digits and dashes, such as invoice-check." />
        <Input label="Description" value={description} onChange={(e) => setDescription(e.target.value)} errors={fieldErrors.description} />
        <p className="muted">It starts as a manual workflow with one step that echoes its input; add steps and a trigger next.</p>
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Create</Button>
        </div>
      </form>
    </Dialog>
  );
}
