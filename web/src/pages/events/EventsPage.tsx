import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import type { Page } from "../../api/client";
import { eventsApi, type CadreEvent, type EventRun, type EventType } from "../../api/events";
import { useCanEdit, useCanOperate } from "../../app/permissions";
import { Button, type Column, Dialog, EmptyState, Input, JsonField, LoadFailed, Loading, parseJson, ProblemBanner, Select, Table, TextArea, Time, useSubmission, useToast } from "../../components";
import { ConfirmDialog, errorsUnder } from "../admin/shared";

const origins = [
  { value: "", label: "Any origin" },
  { value: "api", label: "Sent through the API" },
  { value: "run", label: "Emitted by runs" },
  { value: "cadre", label: "Cadre's own" },
];

/**
 * The workspace's events, newest first, with the runs each started: filter by type (patterns such as `ticket.*`)
 * and origin, kept in the address with the event shown in detail; operators send a test event and replay one.
 */
export function EventsPage() {
  const { workspace = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const type = params.get("type") ?? "";
  const origin = params.get("origin") ?? "";
  const selected = params.get("event");
  const [typeText, setTypeText] = useState(type);
  const [link, setLink] = useState<string | null>(null);
  const [page, setPage] = useState<Page<CadreEvent> | null>(null);
  const [types, setTypes] = useState<EventType[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [reload, setReload] = useState(0);
  const [sending, setSending] = useState(false);
  const canOperate = useCanOperate(workspace);
  const canEdit = useCanEdit(workspace);
  const toast = useToast();
  const [typesVersion, setTypesVersion] = useState(0);
  // The type being defined (null) or edited, when the dialog is open; the type to delete, when asked.
  const [editing, setEditing] = useState<{ type: EventType | null } | null>(null);
  const [deleting, setDeleting] = useState<EventType | null>(null);

  const update = (changes: Record<string, string | null>) => setParams((current) => {
    const next = new URLSearchParams(current);
    for (const [name, value] of Object.entries(changes)) { if (value) next.set(name, value); else next.delete(name); }
    return next;
  }, { replace: true });

  useEffect(() => { setLink(null); }, [type, origin, workspace]);
  useEffect(() => { setTypeText(type); }, [type]);
  useEffect(() => {
    if (typeText === type) return;
    const timer = window.setTimeout(() => update({ type: typeText.trim() || null }), 300);
    return () => window.clearTimeout(timer);
  }, [typeText, type]);

  useEffect(() => {
    const abort = new AbortController();
    eventsApi.types(workspace, abort.signal).then((p) => setTypes(p.results)).catch(() => { /* the list is a convenience; the events still show */ });
    return () => abort.abort();
  }, [workspace, typesVersion]);

  useEffect(() => {
    const abort = new AbortController();
    setLoading(true);
    eventsApi.list(workspace, { type: type || undefined, origin: origin || undefined }, { limit: 25, link }, abort.signal)
      .then((result) => { setPage(result); setError(null); setLoading(false); })
      .catch((e: unknown) => { if (!abort.signal.aborted) { setError(e); setLoading(false); } });
    return () => abort.abort();
  }, [workspace, type, origin, link, reload]);

  const columns: Column<CadreEvent>[] = [
    {
      key: "type", header: "Type", cell: (e) => (
        <button type="button" className="link-button" aria-label={`Show event ${e.type} ${e.externalId ?? e.id}`} aria-pressed={selected === e.id}
          onClick={() => update({ event: e.id })}><code>{e.type}</code></button>
      ),
    },
    { key: "source", header: "Source", cell: (e) => e.source ?? <span className="muted">—</span> },
    { key: "origin", header: "Origin", cell: (e) => <span className="badge">{e.origin}</span> },
    { key: "key", header: "Idempotency key", cell: (e) => (e.externalId ? <code>{e.externalId}</code> : <span className="muted">—</span>) },
    { key: "occurred", header: "Occurred", cell: (e) => <Time value={e.occurredAt} /> },
    { key: "runs", header: "Runs started", cell: (e) => <RunLinks workspace={workspace} runs={e.runs} dispatched={e.dispatchedAt != null} /> },
  ];

  const customTypes = types.filter((t) => !t.builtIn);
  const filtered = type !== "" || origin !== "";

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Events</h1>
          {page && <p className="muted" aria-live="polite">{page.count === 1 ? "1 event" : `${page.count} events`}{type && ` of type “${type}”`}</p>}
        </div>
        <div className="page-actions">
          {canOperate && <Button variant="primary" onClick={() => setSending(true)}>Send a test event</Button>}
        </div>
      </header>

      <div className="stack">
        <form className="filters" role="search" aria-label="Filter events" onSubmit={(e) => { e.preventDefault(); update({ type: typeText.trim() || null }); }}>
          <Input label="Event type" type="search" value={typeText} onChange={(e) => setTypeText(e.target.value)} list="event-type-names"
            placeholder="ticket.created or ticket.*" hint="A type, or a pattern with *." />
          <datalist id="event-type-names">{types.map((t) => <option key={t.name} value={t.name} />)}</datalist>
          <Select label="Origin" value={origin} options={origins} onChange={(e) => update({ origin: e.target.value || null })} />
          {filtered && <div className="filter-actions"><Button onClick={() => { setTypeText(""); update({ type: null, origin: null }); }}>Clear filters</Button></div>}
        </form>

        {selected && <EventDetail workspace={workspace} id={selected} canOperate={canOperate} onClose={() => update({ event: null })}
          onReplayed={() => setReload((n) => n + 1)} />}

        {error != null && (
          <LoadFailed error={error} onRetry={() => setReload((n) => n + 1)} />
        )}
        {error == null && loading && !page && <Loading label="Loading events…" />}

        {error == null && page && page.results.length === 0 && (
          filtered ? (
            <EmptyState title="No event matches" action={<Button onClick={() => { setTypeText(""); update({ type: null, origin: null }); }}>Clear filters</Button>}>
              <p>No event of this workspace matches these filters (events are kept for the workspace's retention, 30 days by default).</p>
            </EmptyState>
          ) : (
            <EmptyState title="No events yet" action={canOperate && customTypes.length > 0 ? <Button variant="primary" onClick={() => setSending(true)}>Send a test event</Button> : undefined}>
              <p>
                Events start workflows: a system sends one with <code>POST /api/v1/workspaces/{workspace}/events</code>, a run emits one with
                an <code>emit_event</code> step, or Cadre records its own (a run failed, a persona was published) when a workflow listens for them.
                Each active workflow whose trigger takes the event's type runs once per event.
              </p>
              {customTypes.length === 0 && <p>Events are of the workspace's own types; define one first ({canEdit ? "New event type, under Event types below" : <code>POST …/event-types</code>}).</p>}
            </EmptyState>
          )
        )}

        {error == null && page && page.results.length > 0 && (
          <div className={loading ? "is-refreshing" : undefined} aria-busy={loading}>
            <Table caption="Events" columns={columns} rows={page.results} rowKey={(e) => e.id} />
            <nav className="pager" aria-label="Pages">
              <Button disabled={!page.previous || loading} onClick={() => setLink(page.previous)}>← Previous</Button>
              <Button disabled={!page.next || loading} onClick={() => setLink(page.next)}>Next →</Button>
            </nav>
          </div>
        )}

        <details className="insight-card event-types">
          <summary><strong>Event types</strong> <span className="muted">({types.length})</span></summary>
          {canEdit && (
            <div className="event-types-actions">
              <Button onClick={() => setEditing({ type: null })}>New event type</Button>
              <span className="muted"> A workspace's own type: a name, and a JSON Schema its events' payloads must follow.</span>
            </div>
          )}
          {types.length === 0 ? <p className="muted">No event types could be read.</p> : (
            <Table caption="Event types" rowKey={(t) => t.name} rows={types} columns={[
              { key: "name", header: "Name", cell: (t) => <code>{t.name}</code> },
              { key: "description", header: "Description", className: "cell-description", cell: (t) => t.description || <span className="muted">—</span> },
              { key: "kind", header: "Kind", cell: (t) => <span className="badge">{t.builtIn ? "built-in" : "custom"}</span> },
              { key: "show", header: <span className="visually-hidden">Actions</span>, cell: (t) => (
                <div className="row-actions">
                  <Button variant="ghost" onClick={() => { setTypeText(t.name); update({ type: t.name }); }} aria-label={`Show the events of ${t.name}`}>Show its events</Button>
                  {canEdit && !t.builtIn && <Button variant="ghost" onClick={() => setEditing({ type: t })} aria-label={`Edit ${t.name}`}>Edit</Button>}
                  {canEdit && !t.builtIn && <Button variant="ghost" onClick={() => setDeleting(t)} aria-label={`Delete ${t.name}`}>Delete</Button>}
                </div>
              ) },
            ]} />
          )}
        </details>
      </div>

      <EventTypeDialog workspace={workspace} editing={editing?.type ?? null} open={editing !== null} onClose={() => setEditing(null)}
        onSaved={(saved, created) => {
          setEditing(null);
          setTypes((all) => (created ? [...all, saved] : all.map((t) => (t.name === saved.name ? saved : t))));
          setTypesVersion((n) => n + 1);
          toast.success(created ? `Event type ${saved.name} defined.` : `Event type ${saved.name} saved.`);
        }} />
      <ConfirmDialog open={deleting !== null} title={`Delete event type ${deleting?.name ?? ""}?`} confirmLabel="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          const name = deleting!.name;
          await eventsApi.deleteType(workspace, name);
          setDeleting(null);
          setTypes((all) => all.filter((t) => t.name !== name));
          setTypesVersion((n) => n + 1);
          toast.success(`Event type ${name} deleted.`);
        }}>
        <p>Events already sent keep their type. The API refuses while a workflow starts on it, and names those workflows.</p>
      </ConfirmDialog>
      <SendEventDialog workspace={workspace} open={sending} types={customTypes} onClose={() => setSending(false)}
        onSent={(event) => {
          setSending(false);
          const started = event.runs.filter((r) => r.runId).length;
          toast.success(`Event ${event.type} sent; ${started === 1 ? "1 run" : `${started} runs`} started.`);
          setLink(null);
          update({ event: event.id });
          setReload((n) => n + 1);
        }} />
    </div>
  );
}

function RunLinks({ workspace, runs, dispatched }: { workspace: string; runs: EventRun[]; dispatched: boolean }) {
  if (runs.length === 0) return <span className="muted">{dispatched ? "None" : "Starting…"}</span>;
  return (
    <ul className="chip-list">
      {runs.map((r) => (
        <li key={`${r.workflowId}-${r.runId ?? r.replay}`}>
          {r.runId
            ? <Link to={`/w/${encodeURIComponent(workspace)}/runs/${encodeURIComponent(r.runId)}`} title={`${r.workflow}: ${r.status ?? ""}`}>{r.displayId ?? r.runId}</Link>
            : <span className="muted" title={r.error ?? undefined}>{r.workflow}: not started</span>}
        </li>
      ))}
    </ul>
  );
}

function EventDetail({ workspace, id, canOperate, onClose, onReplayed }: {
  workspace: string; id: string; canOperate: boolean; onClose: () => void; onReplayed: () => void;
}) {
  const [event, setEvent] = useState<CadreEvent | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [replaying, setReplaying] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const toast = useToast();
  const w = encodeURIComponent(workspace);

  // The detail opens above the list: take the reader (and the keyboard focus) to it.
  useEffect(() => {
    heading.current?.scrollIntoView({ block: "nearest" });
    heading.current?.focus({ preventScroll: true });
  }, [id]);

  useEffect(() => {
    const abort = new AbortController();
    setEvent(null);
    setError(null);
    eventsApi.get(workspace, id, abort.signal).then(setEvent).catch((e: unknown) => { if (!abort.signal.aborted) setError(e); });
    return () => abort.abort();
  }, [workspace, id]);

  const replay = async () => {
    setReplaying(true);
    try {
      const replayed = await eventsApi.replay(workspace, id);
      setEvent(replayed);
      toast.success(`Event replayed (replay ${replayed.replays}).`);
      onReplayed();
    } catch (e) {
      toast.error(e);
    } finally {
      setReplaying(false);
    }
  };

  const runColumns: Column<EventRun>[] = [
    { key: "workflow", header: "Workflow", cell: (r) => <Link to={`/w/${w}/workflows/${encodeURIComponent(r.workflow)}`}>{r.workflow}</Link> },
    { key: "run", header: "Run", cell: (r) => (r.runId ? <Link to={`/w/${w}/runs/${encodeURIComponent(r.runId)}`}>{r.displayId ?? r.runId}</Link> : <span className="muted">not started</span>) },
    { key: "status", header: "Status", cell: (r) => (r.status ? <span className={`status status-${r.status}`}>{r.status}</span> : <span className="muted">—</span>) },
    { key: "replay", header: "Started by", cell: (r) => (r.replay ? `replay ${r.replay}` : "the event") },
    { key: "error", header: "Why not", cell: (r) => r.error ?? <span className="muted">—</span> },
  ];

  return (
    <section className="insight-card stack" aria-labelledby="event-detail-title">
      <div className="page-header">
        <h2 id="event-detail-title" ref={heading} tabIndex={-1}>Event {event ? <code>{event.type}</code> : id}</h2>
        <div className="page-actions">
          {canOperate && event && <Button busy={replaying} onClick={() => void replay()}>Replay</Button>}
          <Button onClick={onClose}>Close</Button>
        </div>
      </div>
      {error != null && <ProblemBanner error={error} />}
      {!event && error == null && <Loading label="Loading the event…" />}
      {event && (
        <>
          <dl className="kv">
            <dt>ID</dt><dd><code>{event.id}</code></dd>
            <dt>Idempotency key</dt><dd>{event.externalId ? <code>{event.externalId}</code> : <span className="muted">none (each send is a new event)</span>}</dd>
            <dt>Source</dt><dd>{event.source ?? <span className="muted">—</span>}</dd>
            <dt>Origin</dt><dd>{event.origin}{event.emittedByRun && <> · emitted by <Link to={`/w/${w}/runs/${encodeURIComponent(event.emittedByRun)}`}>a run</Link>{event.emittedByStep && <> (step <code>{event.emittedByStep}</code>)</>}</>}</dd>
            <dt>Occurred</dt><dd><Time value={event.occurredAt} /></dd>
            <dt>Received</dt><dd><Time value={event.createdAt} />{event.receivedBy && <> from {event.receivedBy.name}</>}</dd>
            <dt>Runs started</dt><dd>{event.dispatchedAt ? <Time value={event.dispatchedAt} /> : "still to start"}{event.replays > 0 && ` · replayed ${event.replays} times`}</dd>
          </dl>
          <div>
            <h3>Payload</h3>
            <pre className="json-view" aria-label="Payload">{JSON.stringify(event.payload ?? {}, null, 2)}</pre>
          </div>
          <div>
            <h3>Runs it started</h3>
            {event.runs.length === 0 ? <p className="muted">No active workflow took it.</p>
              : <Table caption="Runs the event started" columns={runColumns} rows={event.runs} rowKey={(r) => `${r.workflowId}-${r.runId ?? ""}-${r.replay}`} />}
          </div>
        </>
      )}
    </section>
  );
}

function SendEventDialog({ workspace, open, types, onClose, onSent }: {
  workspace: string; open: boolean; types: EventType[]; onClose: () => void; onSent: (event: CadreEvent) => void;
}) {
  const [type, setType] = useState("");
  const [source, setSource] = useState("");
  const [id, setId] = useState("");
  const [payload, setPayload] = useState("{}");
  const { busy, error, setError, fieldErrors, run } = useSubmission();

  useEffect(() => {
    if (open) { setType(types[0]?.name ?? ""); setSource("web-ui"); setId(""); setPayload("{}"); setError(null); }
  }, [open, types]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseJson(payload);
    if (!parsed.ok) return;
    await run(async () => {
      onSent(await eventsApi.send(workspace, { type, source: source || undefined, id: id || undefined, payload: parsed.value }));
    });
  };

  const payloadErrors = Object.entries(fieldErrors).filter(([field]) => field.startsWith("payload")).flatMap(([, messages]) => messages);
  return (
    <Dialog open={open} title="Send a test event" onClose={onClose}>
      {types.length === 0 ? (
        <div className="stack">
          <p>Events are of the workspace's own types, and it has none yet. Define one (a name and a JSON Schema) with New event type under Event types, or <code>POST …/event-types</code>, then send it here.</p>
          <div className="dialog-actions"><Button onClick={onClose}>Close</Button></div>
        </div>
      ) : (
        <form onSubmit={(e) => void submit(e)} className="stack">
          {error != null && <ProblemBanner error={error} />}
          <Select label="Type" value={type} onChange={(e) => setType(e.target.value)} options={types.map((t) => ({ value: t.name, label: t.name }))} errors={fieldErrors.type} />
          <Input label="Source" value={source} onChange={(e) => setSource(e.target.value)} errors={fieldErrors.source} hint="Who sent it; workflows and personas may filter on it." />
          <Input label="Event ID" value={id} onChange={(e) => setId(e.target.value)} errors={fieldErrors.id}
            hint="Optional. The same ID again is the same event: it starts nothing more." />
          <JsonField label="Payload" value={payload} onChange={setPayload} errors={payloadErrors} rows={6}
            hint={types.find((t) => t.name === type)?.description ?? "Checked against the type's JSON Schema."} />
          <p className="muted">Every active workflow this type triggers starts a real run.</p>
          <div className="dialog-actions">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" busy={busy}>Send</Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

const starterSchema = JSON.stringify({ type: "object", properties: {}, required: [] }, null, 2);

/**
 * Defines a workspace's own event type, or changes one's description and schema (the name stays: workflows and
 * events refer to it). The API checks the schema; its 422 messages show under the field they name.
 */
function EventTypeDialog({ workspace, editing, open, onClose, onSaved }: {
  workspace: string; editing: EventType | null; open: boolean; onClose: () => void; onSaved: (type: EventType, created: boolean) => void;
}) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [schema, setSchema] = useState(starterSchema);
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission({ keepBusyOnSuccess: true });

  useEffect(() => {
    if (!open) return;
    setName(editing?.name ?? "");
    setDescription(editing?.description ?? "");
    setSchema(editing ? JSON.stringify(editing.schema, null, 2) : starterSchema);
    reset();
  }, [open, editing, reset]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseJson(schema);
    if (!parsed.ok) return;
    await run(async () => {
      const body = { description: description.trim() || null, schema: parsed.value as Record<string, unknown> };
      const saved = editing
        ? await eventsApi.updateType(workspace, editing, body)
        : await eventsApi.createType(workspace, { name: name.trim(), ...body });
      onSaved(saved, editing === null);
    });
  };

  return (
    <Dialog open={open} title={editing ? `Edit event type ${editing.name}` : "New event type"} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        {error != null && <ProblemBanner error={error} />}
        <Input label="Name" value={name} onChange={(e) => setName(e.target.value)} errors={errorsUnder(errors, "name")} disabled={editing !== null}
          required placeholder="ticket.created" spellCheck={false} autoComplete="off"
          hint={editing ? "A type keeps its name: workflows and events refer to it." : "Letters, digits and . _ : - such as ticket.created; Cadre's own namespaces are taken."} />
        <TextArea label="Description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} errors={errorsUnder(errors, "description")} />
        <JsonField label="Payload schema" value={schema} onChange={setSchema} errors={errorsUnder(errors, "schema")} rows={10}
          hint="A JSON Schema; each event's payload is checked against it when it is sent." />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{editing ? "Save" : "Create"}</Button>
        </div>
      </form>
    </Dialog>
  );
}
