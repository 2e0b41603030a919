import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useParams } from "react-router";
import { admin, type ApiKey, type CreatedApiKey, type ServiceAccount } from "../../api/admin";
import type { WorkspaceRole } from "../../api/types";
import { Button, Dialog, EmptyState, Input, ProblemBanner, Select, Table, TextArea, Time, useSubmission, useToast, type Column } from "../../components";
import { useWorkspaceRole } from "../../app/permissions";
import { RequireRole } from "../../app/RequireRole";
import { atMost, grantableRoles } from "./roles";
import { ActorName, ConfirmDialog, ListView, OneTimeSecret, plural, usePagedList } from "./shared";

/**
 * Machine access to the workspace: service accounts (a CI job, an integration) and the API keys that act for
 * them. A new key's secret is shown once, when it is made; afterwards only its prefix identifies it.
 */
export function KeysPage() {
  const { workspace = "" } = useParams();
  return (
    <RequireRole workspace={workspace} least="admin" title="API keys"
      why="Service accounts and their API keys can act on the whole workspace, so only its admins and owners see them.">
      <Keys workspace={workspace} />
    </RequireRole>
  );
}

function Keys({ workspace }: { workspace: string }) {
  const myRole = useWorkspaceRole(workspace);
  const toast = useToast();
  const [status, setStatus] = useState("");
  const [accountDialog, setAccountDialog] = useState(false);
  const [keyFor, setKeyFor] = useState<ServiceAccount | null>(null);
  const [deleting, setDeleting] = useState<ServiceAccount | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  const loadAccounts = useCallback((link: string | null, signal: AbortSignal) => admin.serviceAccounts(workspace, link, signal), [workspace]);
  const accounts = usePagedList(loadAccounts, workspace);
  const loadKeys = useCallback((link: string | null, signal: AbortSignal) => admin.apiKeys(workspace, { status, link }, signal), [workspace, status]);
  const keys = usePagedList(loadKeys, `${workspace}|${status}`);

  const changeAccount = async (account: ServiceAccount, change: { role?: string; status?: string }, message: string) => {
    try {
      const saved = await admin.updateServiceAccount(workspace, account, change);
      accounts.update((rows) => rows.map((a) => (a.id === saved.id ? saved : a)));
      toast.success(message);
      keys.reload();
    } catch (e) {
      toast.error(e);
      accounts.reload();
    }
  };
  const setAccountStatus = (account: ServiceAccount, next: "active" | "disabled") =>
    changeAccount(account, { status: next }, next === "disabled" ? `${account.name} disabled: its keys stop working now.` : `${account.name} enabled.`);

  const accountColumns: Column<ServiceAccount>[] = [
    { key: "name", header: "Service account", cell: (a) => <div className="cell-name"><span className="strong">{a.name}</span>{a.description && <span className="muted">{a.description}</span>}</div> },
    {
      key: "role", header: "Role", cell: (a) => (atMost(a.role, myRole) ? (
        <label className="inline-select">
          <span className="visually-hidden">Role of {a.name}</span>
          <select value={a.role} onChange={(e) => void changeAccount(a, { role: e.target.value }, `${a.name} is now ${e.target.value}; its keys act at most as that.`)}>
            {grantableRoles(myRole).map((r) => <option key={r.value} value={r.value}>{r.value}</option>)}
          </select>
        </label>
      ) : <span className="badge">{a.role}</span>),
    },
    { key: "status", header: "Status", cell: (a) => <span className={`status status-${a.status === "active" ? "succeeded" : "halted"}`}>{a.status}</span> },
    { key: "keys", header: "Active keys", cell: (a) => a.activeKeys },
    { key: "created", header: "Created", cell: (a) => <Time value={a.createdAt} /> },
    {
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (a) => (
        <div className="row-actions">
          <Button variant="primary" disabled={a.status !== "active"} onClick={() => setKeyFor(a)} aria-label={`New key for ${a.name}`}>New key</Button>
          {a.status === "active"
            ? <Button onClick={() => void setAccountStatus(a, "disabled")} aria-label={`Disable ${a.name}`}>Disable</Button>
            : <Button onClick={() => void setAccountStatus(a, "active")} aria-label={`Enable ${a.name}`}>Enable</Button>}
          <Button variant="ghost" onClick={() => setDeleting(a)} aria-label={`Delete ${a.name}`}>Delete</Button>
        </div>
      ),
    },
  ];

  const keyColumns: Column<ApiKey>[] = [
    { key: "name", header: "Key", cell: (k) => <div className="cell-name"><span className="strong">{k.name}</span><code className="muted" aria-label={`Prefix ${k.prefix}`}>{k.prefix}…</code></div> },
    { key: "owner", header: "Acts for", cell: (k) => <><ActorName actor={k.owner} /> <span className="muted">({k.owner.kind === "user" ? "personal" : "service account"})</span></> },
    { key: "role", header: "Role", cell: (k) => <span className="badge">{k.role}</span> },
    { key: "status", header: "Status", cell: (k) => <span className={`status status-${k.status === "active" ? "succeeded" : k.status === "revoked" ? "failed" : "waiting"}`}>{k.status}</span> },
    { key: "used", header: "Last used", cell: (k) => (k.lastUsedAt ? <Time value={k.lastUsedAt} /> : <span className="muted">Never</span>) },
    { key: "expires", header: "Expires", cell: (k) => (k.expiresAt ? <Time value={k.expiresAt} /> : <span className="muted">Never</span>) },
    { key: "created", header: "Created", cell: (k) => <Time value={k.createdAt} /> },
    {
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (k) =>
        k.status === "active" ? <Button variant="ghost" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>Revoke</Button> : null,
    },
  ];

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>API keys</h1>
          <p className="muted">For scripts, CI and integrations: each key acts for a service account, never above its role.</p>
        </div>
        <div className="page-actions">
          <Button variant="primary" onClick={() => setAccountDialog(true)}>New service account</Button>
        </div>
      </header>

      <section className="section" aria-labelledby="accounts-heading">
        <h2 id="accounts-heading">Service accounts {accounts.page && <span className="muted">({accounts.page.count})</span>}</h2>
        <ListView list={accounts} label="service accounts" empty={(
          <EmptyState title="No service accounts yet" action={<Button variant="primary" onClick={() => setAccountDialog(true)}>Create a service account</Button>}>
            <p>A service account is a machine identity — a CI pipeline, a Zendesk sync — with a role of its own. Its keys call the
              API as it, so people's own access can change without breaking the integration.</p>
          </EmptyState>
        )}>
          {(rows) => <Table caption="Service accounts" columns={accountColumns} rows={rows} rowKey={(a) => a.id} />}
        </ListView>
      </section>

      <section className="section" aria-labelledby="keys-heading">
        <div className="section-header">
          <h2 id="keys-heading">Keys {keys.page && <span className="muted">({plural(keys.page.count, "key")})</span>}</h2>
          <Select label="Show" className="field-beside" value={status} onChange={(e) => setStatus(e.target.value)}
            options={[{ value: "", label: "All keys" }, { value: "active", label: "Active" }, { value: "expired", label: "Expired" }, { value: "revoked", label: "Revoked" }]} />
        </div>
        <ListView list={keys} label="keys" empty={(
          <EmptyState title={status ? `No ${status} keys` : "No keys yet"}>
            <p>{status ? "Choose “All keys” to see the others." : "Create a service account, then a key for it. Personal keys limited to this workspace show here too."}</p>
          </EmptyState>
        )}>
          {(rows) => <Table caption="API keys" columns={keyColumns} rows={rows} rowKey={(k) => k.id} />}
        </ListView>
      </section>

      <ServiceAccountDialog workspace={workspace} open={accountDialog} myRole={myRole} onClose={() => setAccountDialog(false)}
        onCreated={(account) => { setAccountDialog(false); toast.success(`Service account ${account.name} created.`); accounts.reload(); setKeyFor(account); }} />

      <NewKeyDialog workspace={workspace} account={keyFor} myRole={myRole} onClose={() => setKeyFor(null)}
        onCreated={() => { accounts.reload(); keys.reload(); }} />

      <ConfirmDialog open={deleting !== null} title="Delete the service account?" confirmLabel="Delete service account" onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await admin.deleteServiceAccount(workspace, deleting);
          toast.success(`Service account ${deleting.name} deleted.`);
          setDeleting(null);
          accounts.reload();
          keys.reload();
        }}>
        <p><strong>{deleting?.name}</strong> and all its keys go, and anything using those keys stops working at once.</p>
      </ConfirmDialog>

      <ConfirmDialog open={revoking !== null} title="Revoke the key?" confirmLabel="Revoke key" onClose={() => setRevoking(null)}
        onConfirm={async () => {
          if (!revoking) return;
          const revoked = await admin.revokeApiKey(workspace, revoking);
          keys.update((rows) => rows.map((k) => (k.id === revoked.id ? revoked : k)));
          toast.success(`Key ${revoking.name} revoked.`);
          setRevoking(null);
          accounts.reload();
        }}>
        <p>The key <strong>{revoking?.name}</strong> (<code>{revoking?.prefix}…</code>) stops working at once. It stays listed as revoked.</p>
      </ConfirmDialog>
    </div>
  );
}

function ServiceAccountDialog({ workspace, open, myRole, onClose, onCreated }: {
  workspace: string;
  open: boolean;
  myRole: WorkspaceRole | null;
  onClose: () => void;
  onCreated: (account: ServiceAccount) => void;
}) {
  const [name, setName] = useState("");
  const [role, setRole] = useState("operator");
  const [description, setDescription] = useState("");
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission({ keepBusyOnSuccess: true });
  useEffect(() => { if (open) { setName(""); setRole("operator"); setDescription(""); reset(); } }, [open, reset]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => onCreated(await admin.createServiceAccount(workspace, { name, role, description: description || undefined })));
  };

  return (
    <Dialog open={open} title="New service account" onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        {error != null && <ProblemBanner error={error} />}
        <Input label="Name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus errors={errors.name} hint="What uses it, such as ci or zendesk-sync." />
        <Select label="Role" value={role} onChange={(e) => setRole(e.target.value)} options={grantableRoles(myRole)} errors={errors.role}
          hint="The most its keys may do. Give the least that works." />
        <TextArea label="Description" value={description} onChange={(e) => setDescription(e.target.value)} rows={2} errors={errors.description} />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Create service account</Button>
        </div>
      </form>
    </Dialog>
  );
}

/** Makes a key for a service account, then shows its secret this once. */
function NewKeyDialog({ workspace, account, myRole, onClose, onCreated }: {
  workspace: string;
  account: ServiceAccount | null;
  myRole: WorkspaceRole | null;
  onClose: () => void;
  onCreated: (key: CreatedApiKey) => void;
}) {
  const [name, setName] = useState("");
  const [role, setRole] = useState("");
  const [expires, setExpires] = useState("");
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission();
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  useEffect(() => {
    if (account) { setName(""); setRole(""); setExpires(""); reset(); }
    // The secret lives only as long as the dialog: closing it forgets the key.
    setCreated(null);
  }, [account, reset]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!account) return;
    await run(async () => {
      const key = await admin.createServiceAccountKey(workspace, account.id, {
        name,
        role: role || undefined,
        // A date means the end of that day in the person's own time zone.
        expiresAt: expires ? new Date(`${expires}T23:59:59`).toISOString() : undefined,
      });
      setCreated(key);
      onCreated(key);
    });
  };

  const roles = account ? grantableRoles(myRole).filter((r) => grantableRoles(account.role).some((a) => a.value === r.value)) : [];

  return (
    <Dialog open={account !== null} title={created ? "Your new API key" : `New key for ${account?.name ?? ""}`} onClose={onClose}>
      {created ? (
        <div className="stack">
          <OneTimeSecret label={`API key ${created.name}`} value={created.key}
            warning="This is the only time Cadre shows this key: it keeps only a hash. Store it in your secret manager now; if it is lost, revoke it and make another." />
          <p className="muted">Send it as <code>Authorization: Bearer …</code> or <code>X-Api-Key</code>. It acts for <strong>{created.owner.name}</strong> as <strong>{created.role}</strong>.</p>
          <div className="dialog-actions"><Button variant="primary" onClick={onClose}>I have stored it</Button></div>
        </div>
      ) : (
        <form className="stack" onSubmit={(e) => void submit(e)}>
          {error != null && <ProblemBanner error={error} />}
          <Input label="Key name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus errors={errors.name}
            hint="Where the key will live, such as github-actions or staging." />
          <Select label="Role" value={role} onChange={(e) => setRole(e.target.value)} errors={errors.role}
            options={[{ value: "", label: `The account's role (${account?.role ?? ""})` }, ...roles]} />
          <Input label="Expires on" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} errors={errors.expiresAt}
            hint="Optional: the key stops working at the end of this day. Empty: it never expires." />
          <div className="dialog-actions">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" busy={busy}>Create key</Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
