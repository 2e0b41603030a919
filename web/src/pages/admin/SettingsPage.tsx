import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useNavigate, useParams } from "react-router";
import { admin, type WorkspaceDetails } from "../../api/admin";
import { Button, Input, LoadFailed, Loading, ProblemBanner, Time, useSubmission, useToast } from "../../components";
import { useHasRole, useIsAdmin } from "../../app/permissions";
import { useSignedIn } from "../../app/session";
import { ActorName, ConfirmDialog, errorsUnder } from "./shared";
import { TransferOwnership } from "./TransferOwnership";

const retentionKinds = [
  { key: "runs", label: "Finished runs" },
  { key: "events", label: "Events" },
  { key: "deliveries", label: "Webhook deliveries" },
] as const;

interface Form {
  name: string;
  displayName: string;
  timeZone: string;
  maxConcurrentRuns: string;
  retention: Record<string, string>;
}

const text = (value: unknown) => (value === undefined || value === null ? "" : String(value));

function toForm(w: WorkspaceDetails): Form {
  const retention = (w.settings.retention ?? {}) as Record<string, unknown>;
  return {
    name: w.name,
    displayName: w.displayName,
    timeZone: text(w.settings.timeZone),
    maxConcurrentRuns: text(w.settings.maxConcurrentRuns),
    retention: Object.fromEntries(retentionKinds.map((k) => [k.key, text(retention[k.key])])),
  };
}

/** The time zones the browser knows, to suggest while typing (the API decides what is valid). */
function knownTimeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return ["UTC", ...(intl.supportedValuesOf?.("timeZone") ?? [])];
  } catch {
    return ["UTC"];
  }
}

/**
 * The workspace's name and the settings Cadre reads (time zone, concurrency cap, retention), saved as one JSON Merge
 * Patch guarded by the version the page loaded; and, for owners, deleting the workspace.
 */
export function SettingsPage() {
  const { workspace = "" } = useParams();
  const isAdmin = useIsAdmin(workspace);
  const isOwner = useHasRole(workspace, "owner");
  const { refresh } = useSignedIn();
  const navigate = useNavigate();
  const toast = useToast();
  const [details, setDetails] = useState<WorkspaceDetails | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const { busy, error: saveError, setError: setSaveError, fieldErrors: errors, run } = useSubmission();
  const [deleting, setDeleting] = useState(false);
  const [generation, setGeneration] = useState(0);
  const zones = useMemo(knownTimeZones, []);

  useEffect(() => {
    const abort = new AbortController();
    setLoadError(null);
    admin.workspace(workspace, abort.signal)
      .then((w) => { setDetails(w); setForm(toForm(w)); setSaveError(null); })
      .catch((e: unknown) => { if (!abort.signal.aborted) setLoadError(e); });
    return () => abort.abort();
  }, [workspace, generation]);

  if (loadError != null) {
    return (
      <div className="page">
        <header className="page-header"><h1>Settings</h1></header>
        <LoadFailed error={loadError} onRetry={() => setGeneration((n) => n + 1)} />
      </div>
    );
  }
  if (!details || !form) return <Loading label="Loading settings…" />;

  const set = (change: Partial<Form>) => setForm({ ...form, ...change });
  const original = toForm(details);
  const dirty = JSON.stringify(form) !== JSON.stringify(original);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // Only what changed is sent; an emptied setting is sent as null, which the merge patch removes (its default applies).
    const settings: Record<string, unknown> = {};
    if (form.timeZone.trim() !== original.timeZone) settings.timeZone = form.timeZone.trim() || null;
    if (form.maxConcurrentRuns.trim() !== original.maxConcurrentRuns) {
      const raw = form.maxConcurrentRuns.trim();
      // A number when it reads as one; otherwise the text as typed, so the API's message explains it.
      settings.maxConcurrentRuns = raw === "" ? null : /^-?\d+$/.test(raw) ? Number(raw) : raw;
    }
    const retention: Record<string, unknown> = {};
    for (const { key } of retentionKinds) {
      const value = (form.retention[key] ?? "").trim();
      if (value !== original.retention[key]) retention[key] = value || null;
    }
    if (Object.keys(retention).length) settings.retention = retention;
    await run(async () => {
      const saved = await admin.updateWorkspace(details, {
        name: form.name !== original.name ? form.name : undefined,
        displayName: form.displayName !== original.displayName ? form.displayName : undefined,
        settings: Object.keys(settings).length ? settings : undefined,
      });
      setDetails(saved);
      setForm(toForm(saved));
      toast.success("Settings saved.");
      if (saved.name !== details.name || saved.displayName !== details.displayName) {
        await refresh();
        if (saved.name !== details.name) navigate(`/w/${encodeURIComponent(saved.name)}/settings`, { replace: true });
      }
    });
  };

  const readOnly = !isAdmin;

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Settings</h1>
          <p className="muted">
            Version {details.version}, changed <Time value={details.updatedAt} />{details.updatedBy && <> by <ActorName actor={details.updatedBy} /></>}.
          </p>
        </div>
      </header>

      <form className="stack settings-form" onSubmit={(e) => void submit(e)}>
        {readOnly && <p className="muted">Only admins change these settings.</p>}
        {saveError != null && <ProblemBanner error={saveError} />}

        <fieldset className="fieldset" disabled={readOnly}>
          <legend>Workspace</legend>
          <Input label="Display name" value={form.displayName} onChange={(e) => set({ displayName: e.target.value })} required errors={errors.displayName} />
          <Input label="Name" value={form.name} onChange={(e) => set({ name: e.target.value })} required errors={errors.name} spellCheck={false}
            hint="The workspace's address in the API and here (/w/NAME). Renaming breaks scripts, links and webhook URLs that use the old one." />
        </fieldset>

        <fieldset className="fieldset" disabled={readOnly}>
          <legend>Time and capacity</legend>
          <Input label="Time zone" value={form.timeZone} onChange={(e) => set({ timeZone: e.target.value })} list="time-zones" spellCheck={false}
            placeholder="UTC" errors={errorsUnder(errors, "settings.timeZone")}
            hint="An IANA name such as Europe/Paris. Analytics count days in it. Empty: UTC." />
          <datalist id="time-zones">{zones.map((z) => <option key={z} value={z} />)}</datalist>
          <Input label="Most runs in progress at once" value={form.maxConcurrentRuns} onChange={(e) => set({ maxConcurrentRuns: e.target.value })}
            inputMode="numeric" placeholder="Server default" errors={errorsUnder(errors, "settings.maxConcurrentRuns")}
            hint="Further runs wait in the queue. Empty or 0: the server's default." />
        </fieldset>

        <fieldset className="fieldset" disabled={readOnly}>
          <legend>Retention</legend>
          <p className="field-hint">How long finished work is kept: a duration of at least an hour (12h, 30d, P90D) or <code>forever</code>. Empty: the server's setting.</p>
          {errors["settings.retention"] && <ul className="field-errors">{errors["settings.retention"].map((m) => <li key={m}>{m}</li>)}</ul>}
          <div className="field-grid">
            {retentionKinds.map((k) => (
              <Input key={k.key} label={k.label} value={form.retention[k.key] ?? ""} placeholder="Server default" spellCheck={false}
                onChange={(e) => set({ retention: { ...form.retention, [k.key]: e.target.value } })} errors={errors[`settings.retention.${k.key}`]} />
            ))}
          </div>
        </fieldset>

        {!readOnly && (
          <div className="form-actions">
            <Button type="submit" variant="primary" busy={busy} disabled={!dirty}>Save settings</Button>
            <Button disabled={!dirty || busy} onClick={() => { setForm(original); setSaveError(null); }}>Discard changes</Button>
          </div>
        )}
      </form>

      {isOwner && <TransferOwnership details={details} />}

      {isOwner && (
        <section className="danger-zone" aria-labelledby="danger-heading">
          <h2 id="danger-heading">Delete this workspace</h2>
          <p>Its workflows, runs, personas, secrets, keys and members go with it. This cannot be undone.</p>
          <Button variant="danger" onClick={() => setDeleting(true)}>Delete workspace…</Button>
        </section>
      )}

      <ConfirmDialog open={deleting} title="Delete the workspace?" confirmLabel="Delete forever" typed={details.name} onClose={() => setDeleting(false)}
        onConfirm={async () => {
          await admin.deleteWorkspace(details);
          setDeleting(false);
          toast.success(`Workspace ${details.displayName} deleted.`);
          await refresh();
          navigate("/", { replace: true });
        }}>
        <p>Everything in <strong>{details.displayName}</strong> (<code>{details.name}</code>) is deleted at once, and every key limited to it stops working.</p>
      </ConfirmDialog>
    </div>
  );
}
