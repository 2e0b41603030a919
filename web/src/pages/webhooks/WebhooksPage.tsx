import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { deliveryStatuses, webhooksApi, type WebhookDelivery, type WebhookSubscription } from "../../api/webhooks";
import { Button, Dialog, EmptyState, Input, LoadFailed, Loading, ProblemBanner, Select, Table, TextArea, Time, useSubmission, useToast, type Column } from "../../components";
import { CheckboxInput } from "../personas/fields";
import { useCanEdit, useCanOperate, useIsAdmin } from "../../app/permissions";
import { ActorName, ConfirmDialog, ListView, OneTimeSecret, plural, usePagedList } from "../admin/shared";

/** Event types typed one a line or comma-separated. */
const parseTypes = (text: string) => text.split(/[\n,]/).map((t) => t.trim()).filter(Boolean);

/** The messages for `eventTypes` and its items (`eventTypes[2]`), each item's prefixed with what was typed. */
function typeErrors(errors: Record<string, string[]>, typed: string[]): string[] | undefined {
  const messages = Object.entries(errors).flatMap(([key, list]) => {
    if (key === "eventTypes") return list;
    const item = /^eventTypes\[(\d+)\]$/.exec(key);
    return item ? list.map((m) => `“${typed[Number(item[1])] ?? item[1]}”: ${m}`) : [];
  });
  return messages.length ? messages : undefined;
}

/**
 * Outbound webhooks: subscriptions that post the workspace's events to a URL (signed, Standard Webhooks),
 * and the deliveries of everything Cadre posts out, subscriptions' and workflows' notifications alike.
 * Editors see the subscriptions, admins change them; everyone sees deliveries, operators send one again.
 */
export function WebhooksPage() {
  const { workspace = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "";
  const subscription = params.get("subscription") ?? "";
  const eventType = params.get("eventType") ?? "";
  const [eventTypeText, setEventTypeText] = useState(eventType);
  const isAdmin = useIsAdmin(workspace);
  const canSeeSubscriptions = useCanEdit(workspace);
  const canOperate = useCanOperate(workspace);
  const toast = useToast();
  const [editing, setEditing] = useState<WebhookSubscription | "new" | null>(null);
  const [deleting, setDeleting] = useState<WebhookSubscription | null>(null);
  const [rotating, setRotating] = useState<WebhookSubscription | null>(null);
  const [secret, setSecret] = useState<WebhookSubscription | null>(null);
  const [opened, setOpened] = useState<string | null>(null);

  const setFilter = useCallback((name: string, value: string) => setParams((p) => {
    const next = new URLSearchParams(p);
    if (value) next.set(name, value); else next.delete(name);
    return next;
  }, { replace: true }), [setParams]);

  useEffect(() => { setEventTypeText(eventType); }, [eventType]);
  useEffect(() => {
    if (eventTypeText.trim() === eventType) return;
    const timer = window.setTimeout(() => setFilter("eventType", eventTypeText.trim()), 300);
    return () => window.clearTimeout(timer);
  }, [eventTypeText, eventType, setFilter]);

  const loadSubscriptions = useCallback((link: string | null, signal: AbortSignal) =>
    canSeeSubscriptions ? webhooksApi.subscriptions(workspace, link, signal) : Promise.resolve({ count: 0, next: null, previous: null, results: [] }),
  [workspace, canSeeSubscriptions]);
  const subscriptions = usePagedList(loadSubscriptions, `${workspace}|${canSeeSubscriptions}`);
  const loadDeliveries = useCallback((link: string | null, signal: AbortSignal) =>
    webhooksApi.deliveries(workspace, { status, subscription, eventType }, link, signal), [workspace, status, subscription, eventType]);
  const deliveries = usePagedList(loadDeliveries, `${workspace}|${status}|${subscription}|${eventType}`);

  // Deliveries change on their own (attempts, retries, new events): on the first page, look every few seconds
  // and reload only when something differs, so the table neither flickers nor goes stale.
  const shown = deliveries.page;
  useEffect(() => {
    if (!shown || shown.previous) return;
    const signature = (rows: WebhookDelivery[]) => rows.map((d) => `${d.id}:${d.status}:${d.attempts}`).join("|");
    const current = signature(shown.results);
    const timer = window.setInterval(() => {
      if (document.visibilityState !== "visible") return;
      loadDeliveries(null, new AbortController().signal)
        .then((latest) => { if (signature(latest.results) !== current) deliveries.reload(); })
        .catch(() => { /* the next look, or the Refresh button, tries again */ });
    }, 4000);
    return () => window.clearInterval(timer);
  }, [shown, loadDeliveries, deliveries.reload]);

  const subscriptionColumns: Column<WebhookSubscription>[] = [
    { key: "url", header: "URL", cell: (s) => <div className="cell-name"><code className="strong webhook-url">{s.url}</code>{s.description && <span className="muted">{s.description}</span>}</div> },
    { key: "types", header: "Event types", cell: (s) => <span className="badge-list">{s.eventTypes.map((t) => <code key={t} className="badge">{t}</code>)}</span> },
    { key: "active", header: "Active", cell: (s) => s.isActive ? <span className="badge badge-accent">Active</span> : <span className="badge">Paused</span> },
    { key: "signing", header: "Signing secret", cell: () => <span className="muted" title="Its own secret, shown once when made or rotated"><code>whsec_…</code> (its own)</span> },
    { key: "created", header: "Created", cell: (s) => <><Time value={s.createdAt} /> <span className="muted">by <ActorName actor={s.createdBy} /></span></> },
    {
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (s) => (
        <div className="row-actions">
          <Button variant="ghost" onClick={() => setFilter("subscription", s.id)} aria-label={`Deliveries of ${s.url}`}>Deliveries</Button>
          {isAdmin && <>
            <Button onClick={() => setEditing(s)} aria-label={`Edit ${s.url}`}>Edit</Button>
            <Button variant="ghost" onClick={() => setRotating(s)} aria-label={`Rotate the secret of ${s.url}`}>Rotate secret</Button>
            <Button variant="ghost" onClick={() => setDeleting(s)} aria-label={`Delete ${s.url}`}>Delete</Button>
          </>}
        </div>
      ),
    },
  ];

  const deliveryColumns: Column<WebhookDelivery>[] = [
    { key: "event", header: "Event type", cell: (d) => <div className="cell-name"><code className="strong">{d.eventType}</code><span className="muted">{d.subscriptionId ? "subscription" : d.runId ? <Link to={`/w/${encodeURIComponent(workspace)}/runs/${encodeURIComponent(d.runId)}`}>run notification</Link> : "notification"}</span></div> },
    { key: "url", header: "URL", cell: (d) => <code className="webhook-url">{d.url}</code> },
    { key: "status", header: "Status", cell: (d) => <span className={`badge delivery-${d.status}`}>{d.status}</span> },
    { key: "attempts", header: "Attempts", cell: (d) => d.attempts },
    { key: "last", header: "Last answer", className: "cell-description", cell: (d) => <LastAnswer delivery={d} /> },
    { key: "next", header: "Next attempt", cell: (d) => d.nextAttemptAt && d.status === "pending" ? <Time value={d.nextAttemptAt} /> : <span className="muted">—</span> },
    { key: "created", header: "Created", cell: (d) => <Time value={d.createdAt} /> },
    { key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (d) => <Button onClick={() => setOpened(d.id)} aria-label={`Details of delivery ${d.id}`}>Details</Button> },
  ];

  const newButton = isAdmin && <Button variant="primary" onClick={() => setEditing("new")}>New subscription</Button>;
  const filtered = Boolean(status || subscription || eventType);

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Outbound webhooks</h1>
          {subscriptions.page && canSeeSubscriptions && <p className="muted" aria-live="polite">{plural(subscriptions.page.count, "subscription")}</p>}
        </div>
        <div className="page-actions">{newButton}</div>
      </header>
      <p className="page-intro muted">
        Cadre posts the workspace's events (ingested, emitted by steps, or its own such as <code>run.failed</code>) to the URLs
        subscribed to them, and workflows' notifications to the URLs they name. Every post is signed the Standard Webhooks way
        and retried for 24 hours until the receiver answers 2xx.
      </p>

      {canSeeSubscriptions ? (
        <section className="stack webhooks-section" aria-labelledby="subscriptions-heading">
          <h2 id="subscriptions-heading">Subscriptions</h2>
          <ListView list={subscriptions} label="subscriptions" empty={
            <EmptyState title="No subscriptions yet" action={newButton}>
              <p>
                A subscription sends every event of the types you name (<code>order.*</code>, <code>run.failed</code>, <code>*</code>) to
                your URL as a signed <code>POST</code>, with a <code>webhook-id</code> that stays the same across retries so the receiver can
                de-duplicate. Each one has its own signing secret.
              </p>
              {!isAdmin && <p>Admins of this workspace can add them.</p>}
            </EmptyState>
          }>
            {(rows) => <Table caption="Webhook subscriptions" columns={subscriptionColumns} rows={rows} rowKey={(s) => s.id} />}
          </ListView>
        </section>
      ) : (
        <p className="muted">Editors and above see the workspace's subscriptions; everyone sees what was delivered.</p>
      )}

      <section className="stack webhooks-section" aria-labelledby="deliveries-heading">
        <h2 id="deliveries-heading">Deliveries{deliveries.page ? <span className="muted heading-count"> ({deliveries.page.count})</span> : null}</h2>
        <div className="filters" role="group" aria-label="Filter deliveries">
          <Select label="Status" value={status} onChange={(e) => setFilter("status", e.target.value)} className="field-inline"
            options={[{ value: "", label: "Any status" }, ...deliveryStatuses.map((s) => ({ value: s, label: s }))]} />
          <Input label="Event type" value={eventTypeText} onChange={(e) => setEventTypeText(e.target.value)} placeholder="run.failed" className="field-inline" spellCheck={false} />
          {subscription && (
            <span className="badge">Subscription <code>{subscription}</code>{" "}
              <button type="button" className="link-button" onClick={() => setFilter("subscription", "")} aria-label="Show every subscription's deliveries">×</button>
            </span>
          )}
          <Button variant="ghost" onClick={deliveries.reload}>Refresh</Button>
        </div>
        <ListView list={deliveries} label="deliveries" empty={filtered ? (
          <EmptyState title="No delivery matches" action={<Button onClick={() => setParams({}, { replace: true })}>Clear the filters</Button>}>
            <p>Nothing was posted that matches these filters.</p>
          </EmptyState>
        ) : (
          <EmptyState title="Nothing delivered yet">
            <p>Each event a subscription covers, and each run end a workflow's notifications name, becomes a delivery here: its status, its attempts and the receiver's last answer.</p>
          </EmptyState>
        )}>
          {(rows) => <Table caption="Webhook deliveries" columns={deliveryColumns} rows={rows} rowKey={(d) => d.id} />}
        </ListView>
      </section>

      <SubscriptionDialog workspace={workspace} subscription={editing} onClose={() => setEditing(null)}
        onSaved={(saved, created) => {
          setEditing(null);
          subscriptions.reload();
          if (created) setSecret(saved); else toast.success(`Subscription to ${saved.url} saved.`);
        }} />

      <Dialog open={secret !== null} title="The signing secret" onClose={() => setSecret(null)}>
        <div className="stack">
          {secret?.secret && <OneTimeSecret label={`Signing secret of ${secret.url}`} value={secret.secret}
            warning="Cadre keeps it encrypted and never shows it again; the receiver needs it to check the webhook-signature header. Rotating makes a new one." />}
          <div className="dialog-actions"><Button variant="primary" onClick={() => setSecret(null)}>Done</Button></div>
        </div>
      </Dialog>

      <ConfirmDialog open={rotating !== null} title="Rotate the signing secret?" confirmLabel="Rotate secret" onClose={() => setRotating(null)}
        onConfirm={async () => {
          if (!rotating) return;
          const rotated = await webhooksApi.rotateSecret(workspace, rotating);
          setRotating(null);
          subscriptions.reload();
          setSecret(rotated);
        }}>
        <p>Deliveries from now on are signed with a new secret; the receiver at <code>{rotating?.url}</code> rejects them until it has it.</p>
      </ConfirmDialog>

      <ConfirmDialog open={deleting !== null} title="Delete the subscription?" confirmLabel="Delete subscription" onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await webhooksApi.remove(workspace, deleting);
          toast.success(`Subscription to ${deleting.url} deleted.`);
          setDeleting(null);
          subscriptions.reload();
          deliveries.reload();
        }}>
        <p>Nothing more is posted to <code>{deleting?.url}</code>; its pending deliveries are given up. Past deliveries stay listed.</p>
      </ConfirmDialog>

      <DeliveryDialog workspace={workspace} delivery={opened} canRedeliver={canOperate} onClose={() => setOpened(null)}
        onRedelivered={() => { toast.success("Sent again, with the same webhook-id."); deliveries.reload(); }} />
    </div>
  );
}

function LastAnswer({ delivery }: { delivery: Pick<WebhookDelivery, "lastStatusCode" | "lastError" | "attempts"> }) {
  if (delivery.attempts === 0) return <span className="muted">Not tried yet</span>;
  return (
    <span>
      {delivery.lastStatusCode != null && <code>{delivery.lastStatusCode}</code>}
      {delivery.lastStatusCode != null && delivery.lastError && " "}
      {delivery.lastError && <span className="delivery-error">{delivery.lastError}</span>}
      {delivery.lastStatusCode == null && !delivery.lastError && <span className="muted">—</span>}
    </span>
  );
}

/** Creates a subscription, or changes one's URL, event types, description or active state. */
function SubscriptionDialog({ workspace, subscription, onClose, onSaved }: {
  workspace: string;
  subscription: WebhookSubscription | "new" | null;
  onClose: () => void;
  onSaved: (subscription: WebhookSubscription, created: boolean) => void;
}) {
  const existing = subscription !== "new" ? subscription : null;
  const [url, setUrl] = useState("");
  const [types, setTypes] = useState("");
  const [description, setDescription] = useState("");
  const [active, setActive] = useState(true);
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission({ keepBusyOnSuccess: true });

  useEffect(() => {
    if (subscription === null) return;
    reset();
    setUrl(existing?.url ?? "");
    setTypes(existing?.eventTypes.join("\n") ?? "");
    setDescription(existing?.description ?? "");
    setActive(existing?.isActive ?? true);
  }, [subscription, existing, reset]);

  const typed = parseTypes(types);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      const body = { url, eventTypes: typed, description, isActive: active };
      const saved = existing ? await webhooksApi.update(workspace, existing, body) : await webhooksApi.create(workspace, body);
      onSaved(saved, !existing);
    });
  };

  return (
    <Dialog open={subscription !== null} title={existing ? "Edit subscription" : "New subscription"} onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)} autoComplete="off" noValidate>
        {error != null && <ProblemBanner error={error} />}
        <Input label="URL" type="url" value={url} onChange={(e) => setUrl(e.target.value)} autoFocus errors={errors.url} spellCheck={false}
          placeholder="https://example.com/hooks/cadre" hint="Where events are posted: http(s), without credentials in it. Redirects are not followed." />
        <TextArea label="Event types" value={types} onChange={(e) => setTypes(e.target.value)} rows={3} errors={typeErrors(errors, typed)} spellCheck={false}
          hint="One a line or comma-separated: exact types (run.failed) or patterns (order.*, or * for everything)." />
        <TextArea label="Description" value={description} onChange={(e) => setDescription(e.target.value)} rows={2} errors={errors.description}
          hint="Who receives it and why (optional)." />
        <CheckboxInput label="Active" checked={active} onChange={setActive} hint="A paused subscription posts nothing until it is active again." />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{existing ? "Save" : "Create subscription"}</Button>
        </div>
      </form>
    </Dialog>
  );
}

/** A delivery's payload and every attempt, with the way to send it again. */
function DeliveryDialog({ workspace, delivery, canRedeliver, onClose, onRedelivered }: {
  workspace: string;
  delivery: string | null;
  canRedeliver: boolean;
  onClose: () => void;
  onRedelivered: () => void;
}) {
  const [found, setFound] = useState<WebhookDelivery | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);
  const { busy, error, run, reset } = useSubmission();

  useEffect(() => {
    if (delivery === null) { setFound(null); return; }
    const abort = new AbortController();
    setLoadError(null);
    webhooksApi.delivery(workspace, delivery, abort.signal).then(setFound, (e: unknown) => { if (!abort.signal.aborted) setLoadError(e); });
    return () => abort.abort();
  }, [workspace, delivery, generation]);
  useEffect(() => { reset(); }, [delivery, reset]);

  const redeliver = () => void run(async () => {
    if (!found) return;
    setFound(await webhooksApi.redeliver(workspace, found.id));
    onRedelivered();
  });

  return (
    <Dialog open={delivery !== null} title="Delivery" onClose={onClose}>
      <div className="stack delivery-detail">
        {loadError != null ? <LoadFailed error={loadError} onRetry={() => setGeneration((n) => n + 1)} />
          : !found || found.id !== delivery ? <Loading label="Loading the delivery…" />
          : <>
            {error != null && <ProblemBanner error={error} />}
            <dl className="delivery-facts">
              <dt>webhook-id</dt><dd><code>{found.id}</code></dd>
              <dt>Event type</dt><dd><code>{found.eventType}</code></dd>
              <dt>URL</dt><dd><code className="webhook-url">{found.url}</code></dd>
              <dt>Status</dt><dd><span className={`badge delivery-${found.status}`}>{found.status}</span></dd>
              <dt>Last answer</dt><dd><LastAnswer delivery={found} /></dd>
              {found.status === "pending" && found.nextAttemptAt && <><dt>Next attempt</dt><dd><Time value={found.nextAttemptAt} /></dd></>}
              {found.finishedAt && <><dt>Finished</dt><dd><Time value={found.finishedAt} /></dd></>}
            </dl>
            <h3>Payload</h3>
            <pre className="json-view" aria-label="Payload" tabIndex={0}>{JSON.stringify(found.payload ?? {}, null, 2)}</pre>
            <h3>Attempts ({found.attempts})</h3>
            {found.attemptLog && found.attemptLog.length > 0 ? (
              <ol className="attempt-log">
                {found.attemptLog.map((a) => (
                  <li key={a.attempt}>
                    <strong>#{a.attempt}</strong> <Time value={a.startedAt} /> <span className="muted">{a.durationMs} ms</span>{" "}
                    {a.statusCode != null && <code>{a.statusCode}</code>} {a.error && <span className="delivery-error">{a.error}</span>}
                    {a.response && <pre className="json-view attempt-response" tabIndex={0} aria-label={`Answer to attempt ${a.attempt}`}>{a.response}</pre>}
                  </li>
                ))}
              </ol>
            ) : <p className="muted">Not tried yet.</p>}
          </>}
        <div className="dialog-actions">
          {found && canRedeliver && found.status !== "pending" && <Button busy={busy} onClick={redeliver}>Redeliver</Button>}
          <Button variant="primary" onClick={onClose}>Done</Button>
        </div>
      </div>
    </Dialog>
  );
}
