import { useEffect, useId, useMemo, useState, type FormEvent, type ReactNode } from "react";
import { useNavigate } from "react-router";
import { http, ProblemError, type Page } from "../../api/client";
import type { Workflow } from "../../api/types";
import { mergePatch, workflowsApi, type Schedule, type WebhookToken } from "../../api/workflows";
import { useCanEdit } from "../../app/permissions";
import { Button, Dialog, Input, JsonField, ProblemBanner, Select, TextArea, Time, useSubmission, useToast, useUnsavedChanges } from "../../components";
import { AnnotationsField } from "./AnnotationsField";
import { CredentialsField } from "./CredentialsField";
import { useWorkflow } from "./WorkflowPage";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj => (typeof value === "object" && value !== null && !Array.isArray(value) ? value as Obj : {});
const str = (value: unknown) => (value === undefined || value === null ? "" : String(value));
const json = (value: unknown) => (value === undefined || value === null || (typeof value === "object" && Object.keys(value as object).length === 0) ? "" : JSON.stringify(value, null, 2));
const list = (value: unknown) => (Array.isArray(value) ? value.map(String).join(", ") : "");
const splitList = (text: string) => text.split(",").map((s) => s.trim()).filter(Boolean);
const num = (text: string): unknown => (text.trim() === "" ? undefined : Number.isFinite(Number(text)) ? Number(text) : text);
const text = (value: string) => (value.trim() === "" ? undefined : value.trim());

/** The definition's fields this form edits, as text. */
function toForm(w: Workflow) {
  const trigger = obj(w.trigger);
  const webhook = obj(trigger.webhook);
  const signature = obj(webhook.signature);
  const defaults = obj(w.defaults);
  const retry = obj(defaults.retryPolicy);
  const sandbox = obj(defaults.sandbox);
  const concurrency = obj(defaults.concurrency);
  const notifications = obj(w.notifications);
  const repository = obj(w.repository);
  return {
    name: str(w.name), title: str(w.title), description: str(w.description), subType: str(w.subType) || "workflow",
    executingAgent: str(w.executingAgent), teamId: str(w.teamId), isActive: Boolean(w.isActive),
    type: str(w.type) || "manual",
    eventType: str(trigger.eventType), filters: json(trigger.filters), routeToPersonas: Boolean(trigger.routeToPersonas),
    cron: str(trigger.cron), timeZone: str(trigger.timeZone), jitter: str(trigger.jitter), startAt: str(trigger.startAt), endAt: str(trigger.endAt),
    misfirePolicy: str(trigger.misfirePolicy),
    webhookMode: str(webhook.mode), webhookTimeout: str(webhook.timeout), webhookHeaders: list(webhook.headers),
    signatureStyle: str(signature.style), signatureSecrets: list(signature.secrets), signatureTolerance: str(signature.tolerance),
    timeout: str(defaults.timeout), maxIterations: str(defaults.maxIterations),
    retryAttempts: str(retry.maximumAttempts), retryInitial: str(retry.initialInterval), retryBackoff: str(retry.backoffCoefficient), retryMax: str(retry.maximumInterval),
    sandboxTimeoutMs: str(sandbox.timeoutMs), sandboxMemoryMb: str(sandbox.memoryMb), sandboxCpuCount: str(sandbox.cpuCount),
    maxRuns: str(concurrency.maxRuns), whenFull: str(concurrency.whenFull),
    webhookUrl: str(notifications.webhookUrl), errorWebhookUrl: str(notifications.errorWebhookUrl), signingSecret: str(notifications.signingSecret),
    skillIds: list(w.skillIds), skillTags: list(w.skillTags), guardrailIds: list(w.guardrailIds), guardrailTags: list(w.guardrailTags),
    repoUrl: str(repository.repoUrl), repoBranch: str(repository.repoBranch), repoTokenSecret: str(repository.repoTokenSecret),
    annotations: json(w.annotations), credentials: json(w.credentials), metadata: json(w.metadata),
    personaPipeline: w.personaPipeline == null ? "" : json(w.personaPipeline),
  };
}
type Form = ReturnType<typeof toForm>;

function compact(value: Obj): Obj | undefined {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return entries.length ? Object.fromEntries(entries) : undefined;
}

class JsonFieldError extends Error {
  constructor(readonly field: string, message: string) { super(message); }
}
function parsed(field: string, value: string): unknown {
  if (value.trim() === "") return undefined;
  try { return JSON.parse(value) as unknown; } catch (e) { throw new JsonFieldError(field, `Not JSON: ${e instanceof Error ? e.message : String(e)}`); }
}

/** The definition the form describes (name aside: a rename is its own call). */
function toDefinition(w: Workflow, f: Form): Obj {
  let trigger: Obj | undefined;
  if (f.type === "event") {
    trigger = compact({ eventType: text(f.eventType), filters: parsed("trigger.filters", f.filters), routeToPersonas: f.routeToPersonas || undefined });
  } else if (f.type === "schedule") {
    trigger = compact({
      cron: text(f.cron), timeZone: text(f.timeZone), jitter: text(f.jitter), startAt: text(f.startAt), endAt: text(f.endAt), misfirePolicy: text(f.misfirePolicy),
    });
  } else if (f.type === "webhook") {
    const signature = f.signatureStyle
      ? compact({ style: f.signatureStyle, secrets: splitList(f.signatureSecrets), tolerance: text(f.signatureTolerance) })
      : undefined;
    trigger = { webhook: compact({ mode: text(f.webhookMode), timeout: text(f.webhookTimeout), headers: f.webhookHeaders.trim() ? splitList(f.webhookHeaders) : undefined, signature }) ?? {} };
  }
  return {
    title: text(f.title), description: f.description.trim() || undefined, subType: f.subType, type: f.type, trigger,
    isActive: f.isActive, executingAgent: text(f.executingAgent), teamId: text(f.teamId),
    skillIds: splitList(f.skillIds), skillTags: splitList(f.skillTags), guardrailIds: splitList(f.guardrailIds), guardrailTags: splitList(f.guardrailTags),
    defaults: compact({
      timeout: text(f.timeout), maxIterations: num(f.maxIterations),
      retryPolicy: compact({ ...obj(obj(w.defaults).retryPolicy), maximumAttempts: num(f.retryAttempts), initialInterval: text(f.retryInitial), backoffCoefficient: num(f.retryBackoff), maximumInterval: text(f.retryMax) }),
      sandbox: compact({ timeoutMs: num(f.sandboxTimeoutMs), memoryMb: num(f.sandboxMemoryMb), cpuCount: num(f.sandboxCpuCount) }),
      concurrency: compact({ maxRuns: num(f.maxRuns), whenFull: text(f.whenFull) }),
    }),
    notifications: compact({ webhookUrl: text(f.webhookUrl), errorWebhookUrl: text(f.errorWebhookUrl), signingSecret: text(f.signingSecret) }),
    repository: compact({ repoUrl: text(f.repoUrl), repoBranch: text(f.repoBranch), repoTokenSecret: text(f.repoTokenSecret) }),
    annotations: parsed("annotations", f.annotations) ?? [],
    credentials: parsed("credentials", f.credentials) ?? {},
    metadata: parsed("metadata", f.metadata) ?? {},
    // Emptied, an existing pipeline is removed (null in the merge patch); never set, it stays absent.
    personaPipeline: parsed("personaPipeline", f.personaPipeline) ?? (w.personaPipeline == null ? undefined : null),
  };
}

/** The part of the stored definition the form covers, to diff against. */
function baseDefinition(w: Workflow, edited: Obj): Obj {
  return Object.fromEntries(Object.keys(edited).map((k) => [k, w[k]]));
}

/** A workflow's definition besides its steps: names, trigger and its settings, defaults, limits, notifications. */
export function ConfigurationTab() {
  const { workflow } = useWorkflow();
  return <ConfigurationForm key={`${workflow.id}:${workflow.version}`} />;
}

function ConfigurationForm() {
  const { workspace, workflow, setWorkflow, reload } = useWorkflow();
  const canEdit = useCanEdit(workspace) && workflow.status !== "deleted";
  const navigate = useNavigate();
  const toast = useToast();
  const initial = useMemo(() => toForm(workflow), [workflow]);
  const [form, setForm] = useState<Form>(initial);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [eventTypes, setEventTypes] = useState<string[]>([]);
  const dirty = JSON.stringify(form) !== JSON.stringify(initial);
  const { prompt, leaveUnasked } = useUnsavedChanges(dirty, "the configuration changed since the last save");
  const eventListId = useId();

  useEffect(() => {
    if (form.type !== "event") return;
    const abort = new AbortController();
    http.get<Page<{ name: string }>>(`/api/v1/workspaces/${encodeURIComponent(workspace)}/event-types`, { query: { limit: 200 }, signal: abort.signal })
      .then((p) => setEventTypes(p.results.map((t) => t.name))).catch(() => { /* the field takes any text */ });
    return () => abort.abort();
  }, [workspace, form.type]);

  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));
  const bind = (key: keyof Form) => ({ value: form[key] as string, onChange: (e: { target: { value: string } }) => set(key, e.target.value as never) });
  const problemErrors = error instanceof ProblemError ? error.problem.errors ?? {} : error instanceof JsonFieldError ? { [error.field]: [error.message] } : {};
  /** The API's messages for a field and what lies under it (`defaults.sandbox` takes `defaults.sandbox.memoryMb`). */
  const fe = (...fields: string[]) => {
    const found = Object.entries(problemErrors).filter(([k]) => fields.some((f) => k === f || k.startsWith(`${f}.`) || k.startsWith(`${f}[`)));
    return found.length ? found.flatMap(([k, m]) => (fields.includes(k) ? m : m.map((x) => `${k}: ${x}`))) : undefined;
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    let edited: Obj;
    try {
      edited = toDefinition(workflow, form);
    } catch (e) {
      setError(e instanceof JsonFieldError ? e : new Error(String(e)));
      return;
    }
    const patch = (mergePatch(baseDefinition(workflow, edited), edited) ?? {}) as Obj;
    setSaving(true);
    try {
      let current = workflow;
      const renamed = form.name.trim() !== workflow.name;
      if (renamed) current = await workflowsApi.rename(workspace, workflow.id, form.name.trim(), text(form.title), current.version);
      if (Object.keys(patch).length) current = await workflowsApi.patch(workspace, workflow.id, patch, current.version);
      toast.success(current.version === workflow.version ? "Nothing changed." : `Saved as version ${current.version}.`);
      // Saved: the address follows the new name (this render still counts the form as unsaved).
      if (renamed) { leaveUnasked(); navigate(`/w/${encodeURIComponent(workspace)}/workflows/${encodeURIComponent(current.name)}`, { replace: true }); }
      setWorkflow(current);
    } catch (e) {
      setError(e);
    } finally {
      setSaving(false);
    }
  };

  const conflict = error instanceof ProblemError && (error.status === 412 || error.status === 409);
  return (
    <form className="config-form" onSubmit={(e) => void save(e)} aria-label="Configuration" noValidate>
      {error != null && (
        <div className="stack">
          <ProblemBanner error={error instanceof JsonFieldError ? new ProblemError({ title: "A JSON field cannot be read", status: 0, detail: `${error.field}: ${error.message}. Nothing was saved.` }) : error} />
          {conflict && (
            <div className="conflict">
              <p>This workflow changed since you opened it (or the name is taken). Reload to see the latest version; your edits here are lost.</p>
              <Button onClick={() => { setError(null); reload(); }}>Reload the workflow</Button>
            </div>
          )}
        </div>
      )}
      {!canEdit && <p className="muted">{workflow.status === "deleted" ? "This workflow is in the bin: restore it to change it." : "You can read the configuration; editors of this workspace change it."}</p>}

      <fieldset className="config-section" disabled={!canEdit}>
        <legend>General</legend>
        <div className="field-row">
          <Input label="Name" {...bind("name")} errors={fe("name")} hint="The slug in addresses and the CLI; renaming keeps runs and history." />
          <Input label="Title" {...bind("title")} errors={fe("title")} />
        </div>
        <TextArea label="Description" rows={2} {...bind("description")} errors={fe("description")} />
        <div className="field-row">
          <Select label="Kind" {...bind("subType")} errors={fe("subType")} options={[
            { value: "workflow", label: "Workflow" }, { value: "agent_session", label: "Agent session" }, { value: "pipeline", label: "Persona pipeline" },
          ]} />
          <Input label="Executing agent" {...bind("executingAgent")} errors={fe("executingAgent")} hint="The persona (name or ID) agent steps use when they name none." />
          <Input label="Team ID" {...bind("teamId")} errors={fe("teamId")} />
        </div>
      </fieldset>

      <fieldset className="config-section" disabled={!canEdit}>
        <legend>Trigger</legend>
        <div className="field-row">
          <Select label="Trigger type" {...bind("type")} errors={fe("type")} options={[
            { value: "manual", label: "Manual (runs started by hand or the API)" }, { value: "event", label: "Event" },
            { value: "webhook", label: "Webhook" }, { value: "schedule", label: "Schedule" },
          ]} />
          <label className="checkbox">
            <input type="checkbox" role="switch" checked={form.isActive} onChange={(e) => set("isActive", e.target.checked)} /> Triggers start runs (active)
          </label>
        </div>
        {fe("trigger") && form.type === "manual" && <ul className="field-errors">{fe("trigger")!.map((m) => <li key={m}>{m}</li>)}</ul>}

        {form.type === "event" && (
          <>
            <Input label="Event type" list={eventListId} {...bind("eventType")} errors={fe("trigger.eventType")} hint="An existing type such as ticket.created, or a pattern like order.*." />
            <datalist id={eventListId}>{eventTypes.map((t) => <option key={t} value={t} />)}</datalist>
            <JsonField label="Filters" value={form.filters} onChange={(v) => set("filters", v)} errors={fe("trigger.filters")} rows={4}
              hint={'Optional, over context: {"{{ context.event.payload.total }}": {"~gt": 100}}.'} />
            <label className="checkbox">
              <input type="checkbox" checked={form.routeToPersonas} onChange={(e) => set("routeToPersonas", e.target.checked)} /> One run per persona whose scope takes the event
            </label>
          </>
        )}

        {form.type === "schedule" && (
          <>
            <div className="field-row">
              <Input label="Cron" {...bind("cron")} errors={fe("trigger.cron")} placeholder="0 9 * * MON-FRI" hint="5 fields (minute first) or Quartz's 6–7 (seconds first)." />
              <Input label="Time zone" {...bind("timeZone")} errors={fe("trigger.timeZone")} placeholder="UTC" hint="IANA, such as Europe/Paris." />
              <Input label="Jitter" {...bind("jitter")} errors={fe("trigger.jitter")} placeholder="5m" hint="At most 1h." />
            </div>
            <div className="field-row">
              <Input label="Start at" {...bind("startAt")} errors={fe("trigger.startAt")} placeholder="2026-06-01" />
              <Input label="End at" {...bind("endAt")} errors={fe("trigger.endAt")} placeholder="2026-12-31T23:59:59Z" />
              <Select label="Misfire policy" {...bind("misfirePolicy")} errors={fe("trigger.misfirePolicy")} options={[
                { value: "skip", label: "skip missed ticks" }, { value: "run-once", label: "run once for the latest missed tick" },
              ]} />
            </div>
            {workflow.type === "schedule" && <NextTicks />}
          </>
        )}

        {form.type === "webhook" && (
          <>
            <div className="field-row">
              <Select label="Answer" {...bind("webhookMode")} errors={fe("trigger.webhook.mode")} options={[
                { value: "", label: "async: 202 with the run (default)" }, { value: "async", label: "async" }, { value: "sync", label: "sync: wait for the run's answer" },
              ]} />
              {form.webhookMode === "sync" && <Input label="Wait at most" {...bind("webhookTimeout")} errors={fe("trigger.webhook.timeout")} placeholder="30s" />}
            </div>
            <Input label="Headers passed to runs" {...bind("webhookHeaders")} errors={fe("trigger.webhook.headers")} hint="Besides the usual ones; comma-separated, such as X-Shopify-Topic." />
            <div className="field-row">
              <Select label="Signature" {...bind("signatureStyle")} errors={fe("trigger.webhook.signature.style")} options={[
                { value: "", label: "None (the URL is the credential)" }, { value: "standard", label: "Standard Webhooks" }, { value: "github", label: "GitHub" }, { value: "stripe", label: "Stripe" },
              ]} />
              {form.signatureStyle && <Input label="Signing secrets" {...bind("signatureSecrets")} errors={fe("trigger.webhook.signature.secrets")} hint="Names of workspace secrets, comma-separated (two while rotating)." />}
              {form.signatureStyle && form.signatureStyle !== "github" && <Input label="Tolerance" {...bind("signatureTolerance")} errors={fe("trigger.webhook.signature.tolerance")} placeholder="5m" />}
            </div>
            {workflow.type === "webhook" && <WebhookUrl canEdit={canEdit} />}
          </>
        )}
      </fieldset>

      <fieldset className="config-section" disabled={!canEdit}>
        <legend>Defaults and limits</legend>
        <div className="field-row">
          <Input label="Step timeout" {...bind("timeout")} errors={fe("defaults.timeout")} placeholder="1h" />
          <Input label="Loop iterations" inputMode="numeric" {...bind("maxIterations")} errors={fe("defaults.maxIterations")} placeholder="10" />
        </div>
        <h3 className="field-hint">Retry policy of every step that has none</h3>
        <div className="field-row">
          <Input label="Retry attempts" inputMode="numeric" {...bind("retryAttempts")} errors={fe("defaults.retryPolicy.maximumAttempts")} placeholder="3" />
          <Input label="Initial interval" {...bind("retryInitial")} errors={fe("defaults.retryPolicy.initialInterval")} placeholder="1s" />
          <Input label="Backoff" inputMode="decimal" {...bind("retryBackoff")} errors={fe("defaults.retryPolicy.backoffCoefficient")} placeholder="2" />
          <Input label="Maximum interval" {...bind("retryMax")} errors={fe("defaults.retryPolicy.maximumInterval")} placeholder="1m" />
        </div>
        <h3 className="field-hint">Sandbox of code steps</h3>
        <div className="field-row">
          <Input label="Sandbox timeout (ms)" inputMode="numeric" {...bind("sandboxTimeoutMs")} errors={fe("defaults.sandbox.timeoutMs")} placeholder="30000" />
          <Input label="Memory (MB)" inputMode="numeric" {...bind("sandboxMemoryMb")} errors={fe("defaults.sandbox.memoryMb")} placeholder="256" />
          <Input label="CPUs" inputMode="decimal" {...bind("sandboxCpuCount")} errors={fe("defaults.sandbox.cpuCount")} placeholder="1" />
        </div>
        <h3 className="field-hint">Concurrency</h3>
        <div className="field-row">
          <Input label="Most runs at once" inputMode="numeric" {...bind("maxRuns")} errors={fe("defaults.concurrency.maxRuns")} hint="0 = no limit." />
          <Select label="When full" {...bind("whenFull")} errors={fe("defaults.concurrency.whenFull")} options={[
            { value: "queue", label: "queue the run" }, { value: "reject", label: "reject the run" }, { value: "cancel-oldest", label: "cancel the oldest run" },
          ]} />
        </div>
      </fieldset>

      <fieldset className="config-section" disabled={!canEdit}>
        <legend>Notifications</legend>
        <div className="field-row">
          <Input label="Webhook on each run's end" type="url" {...bind("webhookUrl")} errors={fe("notifications.webhookUrl")} placeholder="https://…" />
          <Input label="Webhook on failures" type="url" {...bind("errorWebhookUrl")} errors={fe("notifications.errorWebhookUrl")} placeholder="https://…" />
          <Input label="Signing secret" {...bind("signingSecret")} errors={fe("notifications.signingSecret")} hint="A workspace secret's name; unsigned without one." />
        </div>
      </fieldset>

      <details className="config-section">
        <summary><strong>Advanced</strong>: skills, guardrails, repository, persona pipeline, annotations, credentials, metadata</summary>
        <fieldset className="step-panel-body" disabled={!canEdit}>
          <div className="field-row">
            <Input label="Skill IDs" {...bind("skillIds")} errors={fe("skillIds")} hint="Comma-separated." />
            <Input label="Skill tags" {...bind("skillTags")} errors={fe("skillTags")} />
            <Input label="Guardrail IDs" {...bind("guardrailIds")} errors={fe("guardrailIds")} />
            <Input label="Guardrail tags" {...bind("guardrailTags")} errors={fe("guardrailTags")} />
          </div>
          <div className="field-row">
            <Input label="Repository URL" {...bind("repoUrl")} errors={fe("repository.repoUrl")} />
            <Input label="Branch" {...bind("repoBranch")} errors={fe("repository.repoBranch")} />
            <Input label="Token secret" {...bind("repoTokenSecret")} errors={fe("repository.repoTokenSecret")} hint="A secret's name, never the token." />
          </div>
          {/* The API checks a pipeline as the steps it derives, so their messages (steps[2].input.persona…) belong here. */}
          <JsonField label="Persona pipeline" value={form.personaPipeline} onChange={(v) => set("personaPipeline", v)} rows={5}
            errors={fe("personaPipeline", ...(form.personaPipeline.trim() ? ["steps"] : []))}
            hint={'The designer → checker → optimizer loop, such as {"designer": {"persona": "writer"}, "checker": {"persona": "editor"}, "maxIterations": 3}; saving it re-derives the steps the Builder shows. Empty: none.'} />
          <AnnotationsField value={form.annotations} onChange={(v) => set("annotations", v)} errors={problemErrors} />
          <CredentialsField workspace={workspace} value={form.credentials} onChange={(v) => set("credentials", v)} errors={fe("credentials")} />
          <JsonField label="Metadata" value={form.metadata} onChange={(v) => set("metadata", v)} errors={fe("metadata")} rows={3} hint="Free JSON, at most 64 KiB." />
        </fieldset>
      </details>

      {canEdit && (
        <div className="config-actions">
          <Button type="submit" variant="primary" busy={saving} disabled={!dirty}>Save configuration</Button>
          <Button disabled={!dirty || saving} onClick={() => { setForm(initial); setError(null); }}>Discard</Button>
          <span aria-live="polite">{dirty ? <span className="unsaved">● Unsaved changes</span> : <span className="muted">All changes saved · version {workflow.version}</span>}</span>
        </div>
      )}
      {prompt}
    </form>
  );
}

/** The saved schedule's next ticks, as the scheduler computes them. */
function NextTicks() {
  const { workspace, workflow } = useWorkflow();
  const [schedule, setSchedule] = useState<Schedule | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const abort = new AbortController();
    workflowsApi.schedule(workspace, workflow.id, abort.signal).then(setSchedule).catch((e: unknown) => { if (!abort.signal.aborted) setError(e); });
    return () => abort.abort();
  }, [workspace, workflow.id, workflow.version]);
  if (error != null) return <ProblemBanner error={error} />;
  if (!schedule) return null;
  return (
    <section aria-label="Next fire times" className="stack">
      <p className="muted">
        {schedule.paused ? "Paused (the workflow is inactive): these are the ticks it would fire." : "The saved schedule fires next at:"}
        {schedule.lastFiredAt && <> Last fired <Time value={schedule.lastFiredAt} />.</>}
      </p>
      {schedule.next.length === 0 ? <p className="muted">No more ticks: the schedule has ended.</p> : (
        <ol className="ticks">
          {schedule.next.map((t) => <li key={t.at}><code>{t.local}</code> <span className="muted">({t.at} UTC)</span></li>)}
        </ol>
      )}
    </section>
  );
}

/** The webhook's address for editors: shown on request (it is the credential), and rotated with an optional grace period. */
function WebhookUrl({ canEdit }: { canEdit: boolean }) {
  const { workspace, workflow } = useWorkflow();
  const toast = useToast();
  const [token, setToken] = useState<WebhookToken | null>(null);
  const { busy, error, setError, run } = useSubmission();
  const [rotating, setRotating] = useState(false);
  const [grace, setGrace] = useState("");
  const url = (t: WebhookToken) => new URL(t.path, window.location.origin).toString();
  const show = async () => {
    try { setToken(await workflowsApi.webhookToken(workspace, workflow.id)); setError(null); } catch (e) { setError(e); }
  };
  const rotate = async () => {
    await run(async () => {
      const next = await workflowsApi.rotateWebhookToken(workspace, workflow.id, grace.trim() || undefined);
      setToken(next);
      setRotating(false);
      toast.success(next.previousValidUntil ? "Token rotated; the old one keeps working for the grace period." : "Token rotated; the old one stopped working.");
    });
  };
  let body: ReactNode;
  if (!canEdit) body = <p className="muted">Editors can see the webhook's address; it holds its token, so keep it like a password.</p>;
  else if (!token) body = <div><Button onClick={() => void show()}>Show the webhook URL</Button></div>;
  else body = (
    <div className="stack">
      <div className="token-row">
        <code aria-label="Webhook URL">{url(token)}</code>
        <Button onClick={() => void navigator.clipboard?.writeText(url(token)).then(() => toast.success("Copied."))}>Copy</Button>
        <Button onClick={() => setToken(null)}>Hide</Button>
      </div>
      {token.previousValidUntil && <p className="muted">The previous token works until <Time value={token.previousValidUntil} />.</p>}
    </div>
  );
  return (
    <section aria-label="Webhook URL" className="stack">
      <h3 className="field-hint">Webhook address</h3>
      {error != null && <ProblemBanner error={error} />}
      {body}
      {canEdit && <div><Button variant="danger" onClick={() => setRotating(true)}>Rotate token…</Button></div>}
      <Dialog open={rotating} title="Rotate the webhook token?" onClose={() => setRotating(false)}>
        <div className="stack">
          <p>A new token replaces the old one. Senders using the old URL are refused once it stops working.</p>
          <Input label="Grace period" value={grace} onChange={(e) => setGrace(e.target.value)} placeholder="1h" hint="How long the old token keeps working (at most 7d); blank stops it at once." />
          <div className="dialog-actions">
            <Button onClick={() => setRotating(false)}>Cancel</Button>
            <Button variant="danger" busy={busy} onClick={() => void rotate()}>Rotate</Button>
          </div>
        </div>
      </Dialog>
    </section>
  );
}
