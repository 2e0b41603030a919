import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { useAddressParam, useAddressSearch } from "../../app/useAddressSearch";
import type { Page } from "../../api/client";
import { personasApi, type BulkItemResult, type PersonaDraftSummary, type PersonaFilters, type PersonaSummary } from "../../api/personas";
import { Button, type Column, Dialog, EmptyState, Input, LoadFailed, Loading, ProblemBanner, Select, Table, Time, useSubmission, useToast } from "../../components";
import { useCanEdit, useIsAdmin } from "../../app/permissions";
import { ImportDialog } from "./ImportDialog";
import { PersonaMark } from "./PersonaMark";

const sortOptions = [
  { value: "-createdAt", label: "Newest first" },
  { value: "createdAt", label: "Oldest first" },
  { value: "-updatedAt", label: "Recently changed" },
  { value: "name", label: "Name A–Z" },
  { value: "-name", label: "Name Z–A" },
  { value: "displayName", label: "Display name A–Z" },
];
const statusOptions = [
  { value: "active", label: "Live" },
  { value: "deleted", label: "Bin" },
  { value: "all", label: "Live and bin" },
];
const filterKeys = ["q", "status", "sort", "department", "tag", "flag", "provider", "model"] as const;

/** The workspace's personas: search, filters and order in the address, pages by the API's cursor, bulk actions, export and import. */
export function PersonasPage() {
  const { workspace = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const filters: PersonaFilters = useMemo(
    () => Object.fromEntries(filterKeys.map((k) => [k, params.get(k) ?? undefined]).filter(([, v]) => v)),
    [params]);
  const filterKey = JSON.stringify(filters);
  const q = filters.q ?? "";
const [link, setLink] = useState<string | null>(null);
  const [page, setPage] = useState<Page<PersonaSummary> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [reload, setReload] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [dialog, setDialog] = useState<null | "create" | "import" | "tag" | { duplicate: PersonaSummary } | { remove: PersonaSummary[]; permanent: boolean }>(null);
  const [bulkFailures, setBulkFailures] = useState<{ action: string; failures: { name: string; result: BulkItemResult }[] } | null>(null);
  const canEdit = useCanEdit(workspace);
  const isAdmin = useIsAdmin(workspace);
  const toast = useToast();
  const navigate = useNavigate();
  const inBin = filters.status === "deleted";
  const [drafts, setDrafts] = useState<PersonaDraftSummary[]>([]);

  // The person's unpublished drafts, so work in progress is not forgotten.
  useEffect(() => {
    if (!canEdit) return;
    let live = true;
    personasApi.myDrafts(workspace).then((p) => { if (live) setDrafts(p.results); }).catch(() => { if (live) setDrafts([]); });
    return () => { live = false; };
  }, [workspace, canEdit, reload]);

  const setFilter = useAddressParam();

  const [search, setSearch] = useAddressSearch(q, useCallback((text: string) => setFilter("q", text), [setFilter]));

  // New filters start again at the first page, with nothing selected.
  useEffect(() => { setLink(null); setSelected(new Set()); }, [filterKey, workspace]);

  useEffect(() => {
    const abort = new AbortController();
    setLoading(true);
    personasApi.list(workspace, JSON.parse(filterKey) as PersonaFilters, { limit: 25, link }, abort.signal)
      .then((result) => { setPage(result); setError(null); setLoading(false); })
      .catch((e: unknown) => { if (!abort.signal.aborted) { setError(e); setLoading(false); } });
    return () => abort.abort();
  }, [workspace, filterKey, link, reload]);

  const refresh = () => { setSelected(new Set()); setReload((n) => n + 1); };
  const label = (p: PersonaSummary) => p.displayName || p.name;

  const restore = async (p: PersonaSummary) => {
    try {
      await personasApi.restore(workspace, p.id);
      toast.success(`${label(p)} is back.`);
      refresh();
    } catch (e) { toast.error(e); }
  };

  const rows = page?.results ?? [];
  const allSelected = rows.length > 0 && rows.every((p) => selected.has(p.id));
  const toggle = (id: string) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });
  const selectedRows = rows.filter((p) => selected.has(p.id));

  const columns: Column<PersonaSummary>[] = [
    ...(canEdit ? [{
      key: "select",
      header: <input type="checkbox" aria-label="Select every persona on this page" checked={allSelected}
        onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((p) => p.id)))} />,
      cell: (p: PersonaSummary) => <input type="checkbox" aria-label={`Select ${label(p)}`} checked={selected.has(p.id)} onChange={() => toggle(p.id)} />,
      className: "cell-select",
    }] : []),
    {
      key: "name", header: "Persona", cell: (p) => (
        <div className="persona-cell">
          <PersonaMark persona={p} />
          <div className="cell-name">
            {p.status === "deleted"
              ? <span className="strong">{label(p)}</span>
              : <Link className="strong" to={`/w/${encodeURIComponent(workspace)}/personas/${encodeURIComponent(p.name)}`}>{label(p)}</Link>}
            <code className="muted">{p.name}</code>
          </div>
        </div>
      ),
    },
    { key: "description", header: "Description", className: "cell-description", cell: (p) => p.description || <span className="muted">—</span> },
    {
      key: "labels", header: "Labels", cell: (p) => {
        const labels = [...p.departments.map((d) => ({ kind: "department", value: d })), ...p.tags.map((t) => ({ kind: "tag", value: t })), ...p.flags.map((f) => ({ kind: "flag", value: f }))];
        if (labels.length === 0) return <span className="muted">—</span>;
        return (
          <div className="label-list">
            {labels.map((l) => (
              <button key={`${l.kind}:${l.value}`} type="button" className={`badge badge-button persona-${l.kind}`} title={`Show only ${l.kind} ${l.value}`}
                onClick={() => setFilter(l.kind as keyof PersonaFilters, l.value)}>{l.value}</button>
            ))}
          </div>
        );
      },
    },
    { key: "model", header: "Model", cell: (p) => (p.provider || p.model ? <span>{p.provider}{p.provider && p.model && " · "}<code>{p.model}</code></span> : <span className="muted">Not set</span>) },
    { key: "version", header: "Version", cell: (p) => <span>v{p.version}</span> },
    { key: "updatedAt", header: "Updated", cell: (p) => <Time value={p.updatedAt} /> },
    ...(canEdit ? [{
      key: "actions", header: <span className="visually-hidden">Actions</span>, cell: (p: PersonaSummary) => (
        <div className="row-actions">
          {p.status === "deleted" ? (
            <>
              <Button onClick={() => void restore(p)} aria-label={`Restore ${label(p)}`}>Restore</Button>
              {isAdmin && <Button variant="ghost" onClick={() => setDialog({ remove: [p], permanent: true })} aria-label={`Delete ${label(p)} for good`}>Delete for good</Button>}
            </>
          ) : (
            <>
              <Button variant="ghost" onClick={() => setDialog({ duplicate: p })} aria-label={`Duplicate ${label(p)}`}>Duplicate</Button>
              <Button variant="ghost" onClick={() => setDialog({ remove: [p], permanent: false })} aria-label={`Move ${label(p)} to the bin`}>Delete</Button>
            </>
          )}
        </div>
      ),
    }] : []),
  ];

  const filtered = filterKeys.some((k) => k !== "sort" && k !== "status" && filters[k]);
  const createButton = canEdit && <Button variant="primary" onClick={() => setDialog("create")}>Create your first persona</Button>;

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Personas</h1>
          {page && <p className="muted" aria-live="polite">{page.count === 1 ? "1 persona" : `${page.count} personas`}{inBin && " in the bin"}{q && ` matching “${q}”`}</p>}
        </div>
        <div className="page-actions">
          <a className="btn" href={personasApi.exportUrl(workspace, filters, "csv")} download>Export CSV</a>
          <a className="btn" href={personasApi.exportUrl(workspace, filters, "json")} download>Export JSON</a>
          {canEdit && <Button onClick={() => setDialog("import")}>Import</Button>}
          {canEdit && <Button variant="primary" onClick={() => setDialog("create")}>New persona</Button>}
        </div>
      </header>

      <div className="filter-bar" role="search" aria-label="Search and filter personas">
        <Input label="Search personas" type="search" value={search} onChange={(e) => setSearch(e.target.value)}
          placeholder="Words in name, description, instructions…" className="filter-search" />
        <Select label="Show" value={filters.status ?? "active"} options={statusOptions} onChange={(e) => setFilter("status", e.target.value === "active" ? "" : e.target.value)} />
        <Select label="Order" value={filters.sort ?? "-createdAt"} options={sortOptions} onChange={(e) => setFilter("sort", e.target.value === "-createdAt" ? "" : e.target.value)} />
        <FilterInput label="Department" value={filters.department} onCommit={(v) => setFilter("department", v)} />
        <FilterInput label="Tag" value={filters.tag} onCommit={(v) => setFilter("tag", v)} />
        <FilterInput label="Flag" value={filters.flag} onCommit={(v) => setFilter("flag", v)} />
        <FilterInput label="Provider" value={filters.provider} onCommit={(v) => setFilter("provider", v)} />
      </div>

      {drafts.length > 0 && (
        <div className="notice" role="region" aria-label="Your drafts">
          {drafts.length === 1 ? "You have an unpublished draft of " : "You have unpublished drafts of "}
          {drafts.map((d, i) => (
            <span key={d.personaId}>
              {i > 0 && ", "}
              <Link to={`/w/${encodeURIComponent(workspace)}/personas/${encodeURIComponent(d.personaName)}`}>{d.personaName}</Link>
              {d.stale && <span className="muted"> (published since you started it)</span>}
            </span>
          ))}.
        </div>
      )}

      {canEdit && selectedRows.length > 0 && (
        <div className="bulk-bar" role="region" aria-label="Selected personas">
          <span>{selectedRows.length} selected</span>
          {!inBin && <Button onClick={() => setDialog("tag")}>Add a tag</Button>}
          {!inBin && <Button variant="danger" onClick={() => setDialog({ remove: selectedRows, permanent: false })}>Move to bin</Button>}
          <Button variant="ghost" onClick={() => setSelected(new Set())}>Clear selection</Button>
        </div>
      )}

      {bulkFailures && (
        <div className="problem" role="alert">
          <div className="problem-main">
            <strong className="problem-title">{bulkFailures.failures.length} could not be {bulkFailures.action}</strong>
            <ul className="problem-errors">
              {bulkFailures.failures.map(({ name, result }) => (
                <li key={result.index}><strong>{name}</strong> ({result.status}): {result.error?.detail ?? result.error?.title}</li>
              ))}
            </ul>
          </div>
          <button type="button" className="btn btn-ghost" aria-label="Dismiss" onClick={() => setBulkFailures(null)}>×</button>
        </div>
      )}

      {error != null && (
        <LoadFailed error={error} onRetry={() => setReload((n) => n + 1)} />
      )}

      {error == null && loading && !page && <Loading label="Loading personas…" />}

      {error == null && page && page.results.length === 0 && !filtered && !inBin && (
        <EmptyState title="No personas yet" action={<div className="empty-actions">{createButton}{canEdit && <Button onClick={() => setDialog("import")}>Import from a file</Button>}</div>}>
          <p>
            A persona is an AI assistant your workflows can call on: its instructions (the system prompt, with
            parameters such as <code>{"{{ params.audience }}"}</code>), the model it runs on, the skills it may use,
            its guardrails, memory and the events it answers.
          </p>
          <p>Every published change is a version you can compare and revert; edits wait in your draft until you publish.</p>
          {!canEdit && <p>Editors of this workspace can create one.</p>}
        </EmptyState>
      )}

      {error == null && page && page.results.length === 0 && inBin && !filtered && (
        <EmptyState title="The bin is empty">
          <p>Deleted personas wait here, with their history, until they are restored or deleted for good.</p>
        </EmptyState>
      )}

      {error == null && page && page.results.length === 0 && filtered && (
        <EmptyState title="No persona matches" action={<Button onClick={() => setParams(filters.status ? { status: filters.status } : {}, { replace: true })}>Clear search and filters</Button>}>
          <p>Nothing here matches. Search looks for every word, as the start of words, in names, descriptions and instructions.</p>
        </EmptyState>
      )}

      {error == null && page && page.results.length > 0 && (
        <div className={loading ? "is-refreshing" : undefined} aria-busy={loading}>
          <Table caption="Personas" columns={columns} rows={page.results} rowKey={(p) => p.id} />
          <nav className="pager" aria-label="Pages">
            <Button disabled={!page.previous || loading} onClick={() => setLink(page.previous)}>← Previous</Button>
            <Button disabled={!page.next || loading} onClick={() => setLink(page.next)}>Next →</Button>
          </nav>
        </div>
      )}

      <CreatePersonaDialog workspace={workspace} open={dialog === "create"} onClose={() => setDialog(null)}
        onCreated={(name) => { setDialog(null); toast.success(`Persona ${name} created.`); navigate(`/w/${encodeURIComponent(workspace)}/personas/${encodeURIComponent(name)}`); }} />
      <DuplicateDialog workspace={workspace} persona={dialog && typeof dialog === "object" && "duplicate" in dialog ? dialog.duplicate : null} onClose={() => setDialog(null)}
        onDone={(name) => { setDialog(null); toast.success(<>Copied as <Link to={`/w/${encodeURIComponent(workspace)}/personas/${encodeURIComponent(name)}`}>{name}</Link>.</>); refresh(); }} />
      <DeleteDialog workspace={workspace} target={dialog && typeof dialog === "object" && "remove" in dialog ? dialog : null} onClose={() => setDialog(null)}
        onDone={(message, failures) => {
          setDialog(null);
          if (message) toast.success(message);
          setBulkFailures(failures.length ? { action: "moved to the bin", failures } : null);
          refresh();
        }} />
      <AddTagDialog workspace={workspace} open={dialog === "tag"} personas={selectedRows} onClose={() => setDialog(null)}
        onDone={(message, failures) => {
          setDialog(null);
          if (message) toast.success(message);
          setBulkFailures(failures.length ? { action: "tagged", failures } : null);
          refresh();
        }} />
      <ImportDialog workspace={workspace} open={dialog === "import"} onClose={() => setDialog(null)} onImported={refresh} />
    </div>
  );
}

/** A filter typed into a box, applied when the person pauses (or presses Enter). */
function FilterInput({ label, value, onCommit }: { label: string; value: string | undefined; onCommit: (value: string) => void }) {
  const [text, setText] = useState(value ?? "");
  useEffect(() => { setText(value ?? ""); }, [value]);
  useEffect(() => {
    if (text === (value ?? "")) return;
    const timer = window.setTimeout(() => onCommit(text.trim()), 500);
    return () => window.clearTimeout(timer);
  }, [text, value, onCommit]);
  return <Input label={label} value={text} onChange={(e) => setText(e.target.value)} onKeyDown={(e) => { if (e.key === "Enter") onCommit(text.trim()); }} className="filter-small" />;
}

function CreatePersonaDialog({ workspace, open, onClose, onCreated }: { workspace: string; open: boolean; onClose: () => void; onCreated: (name: string) => void }) {
  const [name, setName] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [description, setDescription] = useState("");
  const { busy, error, setError, fieldErrors, run } = useSubmission();

  useEffect(() => { if (open) { setName(""); setDisplayName(""); setDescription(""); setError(null); } }, [open]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      const created = await personasApi.create(workspace, { name, displayName: displayName || undefined, description: description || undefined });
      onCreated(created.name);
    });
  };

  return (
    <Dialog open={open} title="Create a persona" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        {error != null && <ProblemBanner error={error} />}
        <Input label="Name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus errors={fieldErrors.name}
          hint="3–63 lowercase letters, digits and dashes, such as support-agent. Workflows refer to it by this name." />
        <Input label="Display name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} errors={fieldErrors.displayName} hint="What people see; the name if left empty." />
        <Input label="Description" value={description} onChange={(e) => setDescription(e.target.value)} errors={fieldErrors.description} />
        <p className="muted">You write its instructions, pick its model and the rest in the editor next.</p>
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Create</Button>
        </div>
      </form>
    </Dialog>
  );
}

function DuplicateDialog({ workspace, persona, onClose, onDone }: { workspace: string; persona: PersonaSummary | null; onClose: () => void; onDone: (name: string) => void }) {
  const [name, setName] = useState("");
  const { busy, error, setError, fieldErrors, run } = useSubmission();
  useEffect(() => { setName(""); setError(null); }, [persona]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!persona) return;
    await run(async () => {
      const copy = await personasApi.duplicate(workspace, persona.id, { name: name || undefined });
      onDone(copy.name);
    });
  };

  return (
    <Dialog open={persona !== null} title={`Duplicate ${persona?.displayName || persona?.name || ""}`} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        {error != null && <ProblemBanner error={error} />}
        <Input label="Name of the copy" value={name} onChange={(e) => setName(e.target.value)} autoFocus errors={fieldErrors.name}
          placeholder={persona ? `${persona.name}-copy` : ""} hint="Leave empty for the first free of name-copy, name-copy-2, … The copy starts its own history at version 1." />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Duplicate</Button>
        </div>
      </form>
    </Dialog>
  );
}

type Failures = { name: string; result: BulkItemResult }[];

function DeleteDialog({ workspace, target, onClose, onDone }: {
  workspace: string;
  target: { remove: PersonaSummary[]; permanent: boolean } | null;
  onClose: () => void;
  onDone: (message: string | null, failures: Failures) => void;
}) {
  const { busy, error, setError, run } = useSubmission();
  useEffect(() => { setError(null); }, [target]);
  const items = target?.remove ?? [];
  const names = items.map((p) => p.displayName || p.name);

  const confirm = async () => {
    if (!target) return;
    await run(async () => {
      const first = items[0];
      if (!first) return;
      if (target.permanent) {
        await personasApi.remove(workspace, first.id, true);
        onDone(`${names[0]} was deleted for good.`, []);
      } else if (items.length === 1) {
        await personasApi.remove(workspace, first.id);
        onDone(`${names[0]} moved to the bin.`, []);
      } else {
        const { results } = await personasApi.bulkDelete(workspace, items.map((p) => p.id));
        const failures = results.filter((r) => r.status >= 300).map((r) => ({ name: names[r.index] ?? `#${r.index + 1}`, result: r }));
        const done = results.length - failures.length;
        onDone(done ? `${done} ${done === 1 ? "persona" : "personas"} moved to the bin.` : null, failures);
      }
    });
  };

  const title = target?.permanent ? "Delete for good?" : items.length > 1 ? `Move ${items.length} personas to the bin?` : "Move to the bin?";
  return (
    <Dialog open={target !== null} title={title} onClose={onClose}>
      <div className="stack">
        {error != null && <ProblemBanner error={error} />}
        {target?.permanent
          ? <p><strong>{names[0]}</strong> and its whole history will be deleted. This cannot be undone.</p>
          : <p><strong>{names.join(", ")}</strong> {items.length > 1 ? "leave" : "leaves"} the list and {items.length > 1 ? "their names are" : "its name is"} free again. The bin keeps {items.length > 1 ? "them" : "it"}, with history, until restored.</p>}
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="danger" busy={busy} onClick={() => void confirm()}>{target?.permanent ? "Delete for good" : "Move to bin"}</Button>
        </div>
      </div>
    </Dialog>
  );
}

/** Adds one tag to the selected personas with the API's bulk update, each at the version the list showed. */
function AddTagDialog({ workspace, open, personas, onClose, onDone }: {
  workspace: string; open: boolean; personas: PersonaSummary[]; onClose: () => void; onDone: (message: string | null, failures: Failures) => void;
}) {
  const [tag, setTag] = useState("");
  const { busy, error, setError, run } = useSubmission();
  useEffect(() => { if (open) { setTag(""); setError(null); } }, [open]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      const { results } = await personasApi.bulkUpdate(workspace, personas.map((p) => ({
        persona: p.id, expectedVersion: p.version, changes: { tags: [...p.tags, tag.trim()] },
      })));
      const failures = results.filter((r) => r.status >= 300).map((r) => ({ name: personas[r.index]?.displayName || personas[r.index]?.name || `#${r.index + 1}`, result: r }));
      const done = results.length - failures.length;
      onDone(done ? `Tagged ${done} ${done === 1 ? "persona" : "personas"} “${tag.trim()}”.` : null, failures);
    });
  };

  return (
    <Dialog open={open} title={`Tag ${personas.length} ${personas.length === 1 ? "persona" : "personas"}`} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        {error != null && <ProblemBanner error={error} />}
        <Input label="Tag" value={tag} onChange={(e) => setTag(e.target.value)} required autoFocus hint="Added to each one's tags, as a new version. One changed meanwhile is skipped and named." />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Add tag</Button>
        </div>
      </form>
    </Dialog>
  );
}
