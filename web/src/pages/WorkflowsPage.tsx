import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { useAddressParam, useAddressSearch } from "../app/useAddressSearch";
import { api } from "../api/cadre";
import { ProblemError, type Page } from "../api/client";
import type { WorkflowSummary } from "../api/types";
import { workflowsApi } from "../api/workflows";
import { Button, type Column, Dialog, EmptyState, Input, LoadFailed, Loading, ProblemBanner, Select, Table, Time, useSubmission, useToast } from "../components";
import { useCanEdit, useIsAdmin } from "../app/permissions";
import { useSignedIn } from "../app/session";
import { markDataArrived, useRenderTiming } from "../app/timing";
import { ExportDialog } from "./workflow/ExportDialog";
import { ImportWorkflowsDialog } from "./workflow/ImportWorkflowsDialog";
import { workflowTemplates } from "./workflow/templates";

const pageSizes = [25, 50, 100];

function triggerLabel(w: WorkflowSummary): string {
  switch (w.type) {
    case "event": return `Event: ${w.trigger}`;
    case "schedule": return `Schedule: ${w.trigger}`;
    case "webhook": return "Webhook";
    case "manual": return "Manual";
    default: return w.trigger;
  }
}

type Confirm = { title: string; body: ReactNode; action: string; danger?: boolean; run: () => Promise<void> };

/**
 * The workspace's workflows: search and filters (in the address), pages by the API's cursor links,
 * switch triggers on and off, duplicate, move to the bin (one or many), the bin with restore and
 * permanent delete, and export (what the filters match) and import.
 */
export function WorkflowsPage() {
  const { workspace = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const type = params.get("type") ?? "";
  const active = params.get("active") ?? "";
  const bin = params.get("view") === "bin";
  const size = pageSizes.includes(Number(params.get("size"))) ? Number(params.get("size")) : 25;
const [link, setLink] = useState<string | null>(null);
  const [page, setPage] = useState<Page<WorkflowSummary> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [creating, setCreating] = useState(false);
  const [transfer, setTransfer] = useState<"export" | "import" | null>(null);
  const [reload, setReload] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const canEdit = useCanEdit(workspace);
  const isAdmin = useIsAdmin(workspace);
  const toast = useToast();
  const filtered = Boolean(q || type || active);

  const setParam = useAddressParam();

  // Searches as the person types, once they pause.
  const [search, setSearch] = useAddressSearch(q, useCallback((text: string) => setParam("q", text), [setParam]));

  // A new search, filter, view or workspace starts again at the first page, with nothing selected.
  useEffect(() => { setLink(null); setSelected(new Set()); }, [q, type, active, bin, size, workspace]);
  useRenderTiming("workflows", page);

  useEffect(() => {
    const abort = new AbortController();
    setLoading(true);
    workflowsApi.list(workspace, {
      q: q || undefined, type: type || undefined, active: active ? active === "true" : undefined, status: bin ? "deleted" : undefined, limit: size,
    }, link, abort.signal)
      .then((result) => { markDataArrived("workflows"); setPage(result); setError(null); setLoading(false); })
      .catch((e: unknown) => {
        if (abort.signal.aborted) return;
        setError(e);
        setLoading(false);
      });
    return () => abort.abort();
  }, [workspace, q, type, active, bin, link, reload]);

  const refresh = () => { setSelected(new Set()); setReload((n) => n + 1); };
  const label = (w: WorkflowSummary) => w.title || w.name;

  const setActive = useCallback(async (workflow: WorkflowSummary, isActive: boolean) => {
    const update = (value: boolean) => setPage((p) => p && { ...p, results: p.results.map((w) => (w.id === workflow.id ? { ...w, isActive: value } : w)) });
    update(isActive);
    try {
      await api.setWorkflowActive(workspace, workflow.id, isActive);
      toast.success(`${workflow.title || workflow.name} ${isActive ? "activated" : "deactivated"}.`);
    } catch (e) {
      update(!isActive);
      toast.error(e);
    }
  }, [workspace, toast]);

  const duplicate = async (w: WorkflowSummary) => {
    try {
      const copy = await workflowsApi.duplicate(workspace, w.id);
      toast.success(<>Duplicated as <Link to={`/w/${encodeURIComponent(workspace)}/workflows/${encodeURIComponent(copy.name)}`}>{copy.name}</Link> (inactive).</>);
      setLink(null);
      refresh();
    } catch (e) {
      toast.error(e);
    }
  };

  const askDelete = (items: WorkflowSummary[]) => setConfirm({
    title: items.length === 1 ? `Move ${label(items[0]!)} to the bin?` : `Move ${items.length} workflows to the bin?`,
    body: <p>Their triggers stop and their names become free. The bin keeps them, with their history, until they are restored or deleted for good.</p>,
    action: "Move to the bin",
    danger: true,
    run: async () => {
      if (items.length === 1) {
        await workflowsApi.remove(workspace, items[0]!.id);
        toast.success(`${label(items[0]!)} moved to the bin.`);
      } else {
        const result = await workflowsApi.bulkDelete(workspace, items.map((w) => w.id));
        const failed = result.results.filter((r) => r.status >= 300);
        const done = result.results.length - failed.length;
        if (done) toast.success(`${done === 1 ? "1 workflow" : `${done} workflows`} moved to the bin.`);
        if (failed.length) {
          const first = failed[0]!.error;
          toast.error(new ProblemError({ title: `${failed.length} could not be moved to the bin`, status: failed[0]!.status, detail: first ? `${first.title}: ${first.detail}` : undefined }));
        }
      }
      refresh();
    },
  });

  const restore = async (w: WorkflowSummary) => {
    try {
      await workflowsApi.restore(workspace, w.id);
      toast.success(`${label(w)} restored.`);
      refresh();
    } catch (e) {
      toast.error(e);
    }
  };

  const askPurge = (w: WorkflowSummary) => setConfirm({
    title: `Delete ${label(w)} for good?`,
    body: <p>The workflow and every version of it are deleted. This cannot be undone.</p>,
    action: "Delete for good",
    danger: true,
    run: async () => {
      await workflowsApi.purge(workspace, w.id);
      toast.success(`${label(w)} deleted for good.`);
      refresh();
    },
  });

  const rows = page?.results ?? [];
  const allSelected = rows.length > 0 && rows.every((w) => selected.has(w.id));
  const toggle = (id: string, on: boolean) => setSelected((current) => {
    const next = new Set(current);
    if (on) next.add(id); else next.delete(id);
    return next;
  });

  const columns: Column<WorkflowSummary>[] = [
    ...(canEdit && !bin ? [{
      key: "select",
      header: <input type="checkbox" aria-label="Select every workflow on this page" checked={allSelected}
        onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((w) => w.id)) : new Set())} />,
      cell: (w: WorkflowSummary) => <input type="checkbox" aria-label={`Select ${label(w)}`} checked={selected.has(w.id)} onChange={(e) => toggle(w.id, e.target.checked)} />,
    }] : []),
    {
      key: "name", header: "Workflow", cell: (w) => (
        <div className="cell-name">
          {bin ? <span className="strong">{label(w)}</span>
            : <Link className="strong" to={`/w/${encodeURIComponent(workspace)}/workflows/${encodeURIComponent(w.name)}`}>{label(w)}</Link>}
          {w.title && w.title !== w.name && <code className="muted">{w.name}</code>}
        </div>
      ),
    },
    { key: "description", header: "Description", className: "cell-description", cell: (w) => w.description || <span className="muted">—</span> },
    { key: "trigger", header: "Trigger", cell: (w) => <span className={`badge badge-${w.type}`}>{triggerLabel(w)}</span> },
    ...(bin ? [] : [{
      key: "uses", header: "Uses", cell: (w: WorkflowSummary) => (
        <div className="cell-uses">
          {w.personas.map((p) => <Link key={p} to={`/w/${encodeURIComponent(workspace)}/personas/${encodeURIComponent(p)}`} className="badge">{p}</Link>)}
          {w.models.map((m) => <code key={m} className="badge">{m}</code>)}
          <span className="muted">{w.stepCount === 1 ? "1 step" : `${w.stepCount} steps`}</span>
        </div>
      ),
    }, {
      key: "active", header: "Active", cell: (w: WorkflowSummary) => (
        <label className="switch">
          <input type="checkbox" role="switch" checked={w.isActive} disabled={!canEdit}
            aria-label={`${label(w)} active`} onChange={(e) => void setActive(w, e.target.checked)} />
          <span className="switch-track" aria-hidden="true" />
        </label>
      ),
    }, {
      key: "lastRun", header: "Last run", cell: (w: WorkflowSummary) => (w.lastRun
        ? (
          <div className="cell-name">
            <Link to={`/w/${encodeURIComponent(workspace)}/runs/${encodeURIComponent(w.lastRun.id)}`} className={`status status-${w.lastRun.status}`}
              aria-label={`Run ${w.lastRun.number} of ${label(w)}: ${w.lastRun.status}`}>{w.lastRun.status}</Link>
            <span className="muted"><Time value={w.lastRun.finishedAt ?? w.lastRun.createdAt} /></span>
          </div>
        )
        : <span className="muted">Never run</span>),
    }]),
    { key: "updatedAt", header: "Updated", cell: (w) => <Time value={w.updatedAt} /> },
    ...(bin ? [] : [{ key: "createdAt", header: "Created", cell: (w: WorkflowSummary) => <Time value={w.createdAt} /> }]),
    ...(canEdit ? [{
      key: "actions", header: <span className="visually-hidden">Actions</span>, cell: (w: WorkflowSummary) => (
        <div className="row-actions">
          {bin ? (
            <>
              <Button variant="ghost" aria-label={`Restore ${label(w)}`} onClick={() => void restore(w)}>Restore</Button>
              {isAdmin && <Button variant="ghost" aria-label={`Delete ${label(w)} for good`} onClick={() => askPurge(w)}>Delete for good</Button>}
            </>
          ) : (
            <>
              <Button variant="ghost" aria-label={`Duplicate ${label(w)}`} onClick={() => void duplicate(w)}>Duplicate</Button>
              <Button variant="ghost" aria-label={`Delete ${label(w)}`} onClick={() => askDelete([w])}>Delete</Button>
            </>
          )}
        </div>
      ),
    }] : []),
  ];

  const createButton = canEdit && <Button variant="primary" onClick={() => setCreating(true)}>Create your first workflow</Button>;
  const clearFilters = () => { setSearch(""); setParams(bin ? { view: "bin" } : {}, { replace: true }); };
  const selectedRows = rows.filter((w) => selected.has(w.id));
  const noun = bin ? "in the bin" : "";

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>{bin ? "Workflows in the bin" : "Workflows"}</h1>
          {page && (
            <p className="muted" aria-live="polite">
              {page.count === 1 ? "1 workflow" : `${page.count} workflows`}{noun && ` ${noun}`}{q && ` matching “${q}”`}
            </p>
          )}
        </div>
        <div className="page-actions">
          <div className="search">
            <Input label="Search workflows" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name, description…" className="field-inline" />
          </div>
          {bin
            ? <Button onClick={() => setParam("view", "")}>← Back to workflows</Button>
            : <Button onClick={() => setParam("view", "bin")}>Bin</Button>}
          <Button onClick={() => setTransfer("export")} disabled={page?.count === 0}>Export</Button>
          {canEdit && !bin && <Button onClick={() => setTransfer("import")}>Import</Button>}
          {canEdit && !bin && <Button variant="primary" onClick={() => setCreating(true)}>New workflow</Button>}
        </div>
      </header>

      <div className="filters" role="group" aria-label="Filters">
        <Select label="Trigger" value={type} onChange={(e) => setParam("type", e.target.value)} options={[
          { value: "", label: "Any trigger" }, { value: "manual", label: "Manual" }, { value: "event", label: "Event" },
          { value: "webhook", label: "Webhook" }, { value: "schedule", label: "Schedule" },
        ]} />
        {!bin && (
          <Select label="State" value={active} onChange={(e) => setParam("active", e.target.value)} options={[
            { value: "", label: "Active or not" }, { value: "true", label: "Active" }, { value: "false", label: "Inactive" },
          ]} />
        )}
        {filtered && <Button variant="ghost" onClick={clearFilters}>Clear filters</Button>}
      </div>

      {selectedRows.length > 0 && !bin && (
        <div className="bulk-bar" role="region" aria-label="Selection">
          <span>{selectedRows.length === 1 ? "1 selected" : `${selectedRows.length} selected`}</span>
          <Button variant="danger" onClick={() => askDelete(selectedRows)}>Move to the bin</Button>
          <Button variant="ghost" onClick={() => setSelected(new Set())}>Clear selection</Button>
        </div>
      )}

      {error != null && (
        <LoadFailed error={error} onRetry={() => setReload((n) => n + 1)} />
      )}

      {error == null && loading && !page && <Loading label="Loading workflows…" />}

      {error == null && page && page.results.length === 0 && !filtered && !bin && (
        <EmptyState title="No workflows yet" action={createButton}>
          <p>
            A workflow is a graph of steps — model calls, agents, HTTP requests, approvals, sleeps — that runs
            durably when it is triggered: by hand, by an event, a webhook or a schedule.
          </p>
          {canEdit && <p>Start from a template — asking a model, an approval, a webhook, a nightly job — and run it straight away.</p>}
          {!canEdit && <p>Editors of this workspace can create one.</p>}
        </EmptyState>
      )}

      {error == null && page && page.results.length === 0 && !filtered && bin && (
        <EmptyState title="The bin is empty" action={<Button onClick={() => setParam("view", "")}>Back to workflows</Button>}>
          <p>Deleted workflows wait here, silent, with their history, until they are restored or deleted for good.</p>
        </EmptyState>
      )}

      {error == null && page && page.results.length === 0 && filtered && (
        <EmptyState title="No workflow matches" action={<Button onClick={clearFilters}>{q && !type && !active ? "Clear the search" : "Clear the filters"}</Button>}>
          <p>{q ? <>Nothing here matches “{q}”. Search looks at names, titles and descriptions.</> : "No workflow has this trigger and state."}</p>
        </EmptyState>
      )}

      {error == null && page && page.results.length > 0 && (
        <div className={loading ? "is-refreshing" : undefined} aria-busy={loading}>
          <Table caption={bin ? "Workflows in the bin" : "Workflows"} columns={columns} rows={page.results} rowKey={(w) => w.id} />
          <nav className="pager" aria-label="Pages">
            <Select label="Rows per page" className="field-inline" value={String(size)} onChange={(e) => setParam("size", e.target.value === "25" ? "" : e.target.value)}
              options={pageSizes.map((n) => ({ value: String(n), label: `${n} per page` }))} />
            <Button disabled={!page.previous || loading} onClick={() => setLink(page.previous)}>← Previous</Button>
            <Button disabled={!page.next || loading} onClick={() => setLink(page.next)}>Next →</Button>
          </nav>
        </div>
      )}

      <ConfirmDialog confirm={confirm} onClose={() => setConfirm(null)} />
      <CreateWorkflowDialog workspace={workspace} open={creating} onClose={() => setCreating(false)} />
      <ExportDialog workspace={workspace} open={transfer === "export"} onClose={() => setTransfer(null)}
        target={{ filters: { q: q || undefined, type: type || undefined, active: active ? active === "true" : undefined, status: bin ? "deleted" : undefined }, count: page?.count }} />
      <ImportWorkflowsDialog workspace={workspace} open={transfer === "import"} onClose={() => setTransfer(null)} onImported={() => { setLink(null); refresh(); }} />
    </div>
  );
}

/** Asks before a destructive action; the API's refusal stays in the dialog. */
function ConfirmDialog({ confirm, onClose }: { confirm: Confirm | null; onClose: () => void }) {
  const { busy, error, setError, run } = useSubmission();
  useEffect(() => { setError(null); }, [confirm]);
  const act = async () => {
    if (!confirm) return;
    await run(async () => {
      await confirm.run();
      onClose();
    });
  };
  return (
    <Dialog open={confirm != null} title={confirm?.title ?? ""} onClose={onClose}>
      <div className="stack">
        {error != null && <ProblemBanner error={error} />}
        {confirm?.body}
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button variant={confirm?.danger ? "danger" : "primary"} busy={busy} onClick={() => void act()}>{confirm?.action}</Button>
        </div>
      </div>
    </Dialog>
  );
}

/**
 * Makes a workflow from a template (each runs as soon as it is made; docs/web.md) and opens it in the builder.
 */
function CreateWorkflowDialog({ workspace, open, onClose }: { workspace: string; open: boolean; onClose: () => void }) {
  const { me } = useSignedIn();
  const navigate = useNavigate();
  const toast = useToast();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [templateId, setTemplateId] = useState("blank");
  const { busy, error, setError, fieldErrors, run } = useSubmission();
  const context = { userId: me.user?.id ?? null };
  const templates = workflowTemplates.filter((t) => t.available?.(context) ?? true);

  useEffect(() => { if (open) { setName(""); setDescription(""); setTemplateId("blank"); setError(null); } }, [open]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const template = templates.find((t) => t.id === templateId);
    if (!template) return;
    await run(async () => {
      const created = await api.createWorkflow(workspace, { ...template.definition(context), name, description: description || undefined });
      onClose();
      toast.success(`Workflow ${created.name} created.`);
      navigate(`/w/${encodeURIComponent(workspace)}/workflows/${encodeURIComponent(created.name)}/builder`);
    });
  };

  return (
    <Dialog open={open} title="Create a workflow" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        {error != null && <ProblemBanner error={error} />}
        <Input label="Name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus errors={fieldErrors.name}
          hint="Lowercase letters, digits and dashes, such as invoice-check." />
        <Input label="Description" value={description} onChange={(e) => setDescription(e.target.value)} errors={fieldErrors.description} />
        <fieldset className="template-choice">
          <legend>Start from</legend>
          {templates.map((t) => (
            <label key={t.id} className="template-option">
              <input type="radio" name="template" value={t.id} checked={templateId === t.id} onChange={() => setTemplateId(t.id)} />
              <span><span className="strong">{t.title}</span><br /><span className="muted">{t.description}</span></span>
            </label>
          ))}
        </fieldset>
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Create</Button>
        </div>
      </form>
    </Dialog>
  );
}
