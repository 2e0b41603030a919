import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { accountApi } from "../../api/account";
import type { ApiKey, CreatedApiKey } from "../../api/admin";
import { useSignedIn } from "../../app/session";
import { Button, Dialog, EmptyState, Input, ProblemBanner, Select, Table, Time, useSubmission, useToast, type Column } from "../../components";
import { workspaceRoles } from "../../api/admin";
import { ConfirmDialog, ListView, OneTimeSecret, plural, usePagedList } from "../admin/shared";

/** The signed-in person's own account: profile, password, personal API keys, and the workspaces they belong to. */
export function AccountPage() {
  const { me } = useSignedIn();
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Your account</h1>
          <p className="muted">{me.user ? <>Signed in as <strong>{me.user.email}</strong>{me.instanceRole && <> · instance {me.instanceRole}</>}</> : `Signed in as ${me.actor.name}`}</p>
        </div>
      </header>
      {me.user ? (
        <>
          <Profile />
          <Password />
          <PersonalKeys />
        </>
      ) : (
        <EmptyState title="No personal account"><p>This session acts for {me.actor.name}, not for a person, so it has no profile, password or personal keys.</p></EmptyState>
      )}
      <Workspaces />
    </div>
  );
}

function Profile() {
  const { me, refresh } = useSignedIn();
  const toast = useToast();
  const [displayName, setDisplayName] = useState(me.user?.displayName ?? "");
  const [avatarUrl, setAvatarUrl] = useState(me.user?.avatarUrl ?? "");
  const { busy, error, fieldErrors: errors, run } = useSubmission();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      await accountApi.updateProfile({ displayName, avatarUrl });
      await refresh();
      toast.success("Profile saved.");
    });
  };

  return (
    <section className="section" aria-labelledby="profile-heading">
      <h2 id="profile-heading">Profile</h2>
      <form className="stack form-narrow" onSubmit={(e) => void submit(e)}>
        {error != null && <ProblemBanner error={error} />}
        <Input label="Display name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} required errors={errors.displayName} />
        <Input label="Avatar URL" type="url" value={avatarUrl} onChange={(e) => setAvatarUrl(e.target.value)} errors={errors.avatarUrl}
          hint="Optional: an https address of a picture. Empty removes it." />
        <div><Button type="submit" variant="primary" busy={busy}>Save profile</Button></div>
      </form>
    </section>
  );
}

function Password() {
  const { refresh } = useSignedIn();
  const toast = useToast();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const { busy, error, fieldErrors: errors, run } = useSubmission();
  const mismatch = repeat !== "" && repeat !== next;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (mismatch) return;
    await run(async () => {
      await accountApi.changePassword({ currentPassword: current, newPassword: next });
      // The change ended every session; this browser got a new one, whose CSRF token /me hands out.
      await refresh();
      setCurrent(""); setNext(""); setRepeat("");
      toast.success("Password changed. Your other sessions were signed out.");
    });
  };

  return (
    <section className="section" aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      <form className="stack form-narrow" onSubmit={(e) => void submit(e)}>
        {error != null && <ProblemBanner error={error} />}
        <Input label="Current password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required errors={errors.currentPassword} />
        <Input label="New password" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required errors={errors.newPassword} />
        <Input label="Repeat the new password" type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required
          errors={mismatch ? ["The two new passwords differ."] : undefined} />
        <p className="muted">Changing it signs you out everywhere else; this browser stays signed in.</p>
        <div><Button type="submit" variant="primary" busy={busy} disabled={mismatch}>Change password</Button></div>
      </form>
    </section>
  );
}

function PersonalKeys() {
  const { workspaces } = useSignedIn();
  const toast = useToast();
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const load = useCallback((link: string | null, signal: AbortSignal) => accountApi.apiKeys(link, signal), []);
  const keys = usePagedList(load, "me");
  const workspaceName = (id: string | null) => (id ? workspaces.find((w) => w.id === id)?.name ?? id : null);

  const columns: Column<ApiKey>[] = [
    { key: "name", header: "Key", cell: (k) => <div className="cell-name"><span className="strong">{k.name}</span><code className="muted" aria-label={`Prefix ${k.prefix}`}>{k.prefix}…</code></div> },
    { key: "scope", header: "Works in", cell: (k) => workspaceName(k.workspaceId) ?? <span className="muted">All your workspaces</span> },
    { key: "role", header: "Role at most", cell: (k) => <span className="badge">{k.role}</span> },
    { key: "status", header: "Status", cell: (k) => <span className={`status status-${k.status === "active" ? "succeeded" : k.status === "revoked" ? "failed" : "waiting"}`}>{k.status}</span> },
    { key: "used", header: "Last used", cell: (k) => (k.lastUsedAt ? <Time value={k.lastUsedAt} /> : <span className="muted">Never</span>) },
    { key: "expires", header: "Expires", cell: (k) => (k.expiresAt ? <Time value={k.expiresAt} /> : <span className="muted">Never</span>) },
    {
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (k) =>
        k.status === "active" ? <Button variant="ghost" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>Revoke</Button> : null,
    },
  ];

  return (
    <section className="section" aria-labelledby="my-keys-heading">
      <div className="section-header">
        <h2 id="my-keys-heading">Personal API keys {keys.page && <span className="muted">({plural(keys.page.count, "key")})</span>}</h2>
        <Button variant="primary" onClick={() => setCreating(true)}>New personal key</Button>
      </div>
      <p className="muted">A personal key acts as you, never above your current role, and stops working if you are disabled or leave its workspace.</p>
      <ListView list={keys} label="personal keys" empty={(
        <EmptyState title="No personal keys"><p>Make one to call the API or use the CLI as yourself.</p></EmptyState>
      )}>
        {(rows) => <Table caption="Personal API keys" columns={columns} rows={rows} rowKey={(k) => k.id} />}
      </ListView>

      <NewPersonalKeyDialog open={creating} onClose={() => setCreating(false)} onCreated={() => keys.reload()} />

      <ConfirmDialog open={revoking !== null} title="Revoke the key?" confirmLabel="Revoke key" onClose={() => setRevoking(null)}
        onConfirm={async () => {
          if (!revoking) return;
          const revoked = await accountApi.revokeApiKey(revoking.id);
          keys.update((rows) => rows.map((k) => (k.id === revoked.id ? revoked : k)));
          toast.success(`Key ${revoking.name} revoked.`);
          setRevoking(null);
        }}>
        <p>The key <strong>{revoking?.name}</strong> (<code>{revoking?.prefix}…</code>) stops working at once. It stays listed as revoked.</p>
      </ConfirmDialog>
    </section>
  );
}

function NewPersonalKeyDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: () => void }) {
  const { workspaces } = useSignedIn();
  const [name, setName] = useState("");
  const [workspace, setWorkspace] = useState("");
  const [role, setRole] = useState("");
  const [expires, setExpires] = useState("");
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission();
  useEffect(() => {
    if (open) { setName(""); setWorkspace(""); setRole(""); setExpires(""); reset(); }
    // The secret lives only as long as the dialog: closing it forgets the key.
    setCreated(null);
  }, [open, reset]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      const key = await accountApi.createApiKey({
        name,
        workspace: workspace || undefined,
        role: role || undefined,
        expiresAt: expires ? new Date(`${expires}T23:59:59`).toISOString() : undefined,
      });
      setCreated(key);
      onCreated();
    });
  };

  return (
    <Dialog open={open} title={created ? "Your new API key" : "New personal key"} onClose={onClose}>
      {created ? (
        <div className="stack">
          <OneTimeSecret label={`API key ${created.name}`} value={created.key}
            warning="This is the only time Cadre shows this key: it keeps only a hash. Store it somewhere safe now; if it is lost, revoke it and make another." />
          <p className="muted">Send it as <code>Authorization: Bearer …</code> or <code>X-Api-Key</code>. It acts as you, at most as <strong>{created.role}</strong>.</p>
          <div className="dialog-actions"><Button variant="primary" onClick={onClose}>I have stored it</Button></div>
        </div>
      ) : (
        <form className="stack" onSubmit={(e) => void submit(e)}>
          {error != null && <ProblemBanner error={error} />}
          <Input label="Key name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus errors={errors.name}
            hint="Where the key will live, such as laptop-cli." />
          <Select label="Workspace" value={workspace} onChange={(e) => setWorkspace(e.target.value)} errors={errors.workspace}
            options={[{ value: "", label: "All my workspaces" }, ...workspaces.map((w) => ({ value: w.name, label: w.displayName || w.name }))]} />
          <Select label="Role" value={role} onChange={(e) => setRole(e.target.value)} errors={errors.role}
            options={[{ value: "", label: "My own role" }, ...workspaceRoles.map((r) => ({ value: r, label: r }))]}
            hint="A cap: the key never acts above your own role." />
          <Input label="Expires on" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} errors={errors.expiresAt}
            hint="Optional: the key stops working at the end of this day." />
          <div className="dialog-actions">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" busy={busy}>Create key</Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

function Workspaces() {
  const { me } = useSignedIn();
  const columns: Column<(typeof me.workspaces)[number]>[] = [
    { key: "name", header: "Workspace", cell: (w) => <Link to={`/w/${encodeURIComponent(w.name)}/workflows`}>{w.displayName || w.name}</Link> },
    { key: "id", header: "Name", cell: (w) => <code>{w.name}</code> },
    { key: "role", header: "Your role", cell: (w) => <span className="badge">{w.role}</span> },
  ];
  return (
    <section className="section" aria-labelledby="my-workspaces-heading">
      <h2 id="my-workspaces-heading">Your workspaces</h2>
      {me.workspaces.length === 0
        ? <EmptyState title="No workspaces yet"><p>An admin adds you to a workspace, or you accept an invitation.</p></EmptyState>
        : <Table caption="Your workspaces and roles" columns={columns} rows={me.workspaces} rowKey={(w) => w.id} />}
    </section>
  );
}
