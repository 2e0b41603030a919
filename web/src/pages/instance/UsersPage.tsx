import { useCallback, useEffect, useState, type FormEvent } from "react";
import { instanceApi, type OneTimeLink } from "../../api/instance";
import type { User } from "../../api/types";
import { useSignedIn } from "../../app/session";
import { Button, Dialog, EmptyState, Input, ProblemBanner, Select, Table, Time, useSubmission, useToast, type Column } from "../../components";
import { ConfirmDialog, ListView, OneTimeSecret, plural, usePagedList } from "../admin/shared";

const instanceRoles = [
  { value: "none", label: "none" },
  { value: "admin", label: "admin" },
  { value: "owner", label: "owner" },
];

/** Every account of the instance: search, instance roles, disable and enable, new accounts and password reset links. */
export function UsersPage() {
  const { me } = useSignedIn();
  const toast = useToast();
  const [search, setSearch] = useState("");
  const [applied, setApplied] = useState("");
  const [status, setStatus] = useState("");
  const [creating, setCreating] = useState(false);
  const [disabling, setDisabling] = useState<User | null>(null);
  const [resetFor, setResetFor] = useState<User | null>(null);

  const load = useCallback((link: string | null, signal: AbortSignal) => instanceApi.users({ search: applied, status, link }, signal), [applied, status]);
  const users = usePagedList(load, `${applied}|${status}`);

  const change = async (user: User, body: { status?: string; instanceRole?: string }, message: string) => {
    try {
      const saved = await instanceApi.updateUser(user, body);
      users.update((rows) => rows.map((u) => (u.id === saved.id ? saved : u)));
      toast.success(message);
    } catch (e) {
      toast.error(e);
      users.reload();
    }
  };

  const columns: Column<User>[] = [
    { key: "name", header: "Person", cell: (u) => <div className="cell-name"><span className="strong">{u.displayName}</span><span className="muted">{u.email}</span></div> },
    {
      key: "role", header: "Instance role", cell: (u) => (
        <label className="inline-select">
          <span className="visually-hidden">Instance role of {u.displayName}</span>
          <select value={u.instanceRole ?? "none"}
            onChange={(e) => void change(u, { instanceRole: e.target.value }, e.target.value === "none"
              ? `${u.displayName} no longer has instance rights.` : `${u.displayName} is now instance ${e.target.value}.`)}>
            {instanceRoles.map((r) => <option key={r.value} value={r.value}>{r.label}</option>)}
          </select>
        </label>
      ),
    },
    { key: "status", header: "Status", cell: (u) => <span className={`status status-${u.status === "active" ? "succeeded" : "halted"}`}>{u.status}</span> },
    { key: "signin", header: "Last sign-in", cell: (u) => (u.lastSignInAt ? <Time value={u.lastSignInAt} /> : <span className="muted">Never</span>) },
    { key: "created", header: "Created", cell: (u) => <Time value={u.createdAt} /> },
    {
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (u) => (
        <div className="row-actions">
          <Button onClick={() => setResetFor(u)} aria-label={`Password reset link for ${u.displayName}`}>Reset link</Button>
          {u.id === me.user?.id ? null : u.status === "active"
            ? <Button variant="ghost" onClick={() => setDisabling(u)} aria-label={`Disable ${u.displayName}`}>Disable</Button>
            : <Button onClick={() => void change(u, { status: "active" }, `${u.displayName} enabled.`)} aria-label={`Enable ${u.displayName}`}>Enable</Button>}
        </div>
      ),
    },
  ];

  return (
    <section className="section" aria-labelledby="users-heading">
      <div className="section-header">
        <h2 id="users-heading">Users {users.page && <span className="muted">({plural(users.page.count, "account")})</span>}</h2>
        <Button variant="primary" onClick={() => setCreating(true)}>New user</Button>
      </div>
      <form className="filters" role="search" aria-label="Find users" onSubmit={(e) => { e.preventDefault(); setApplied(search.trim()); }}>
        <Input label="Search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Part of a name or address" />
        <Select label="Status" value={status} onChange={(e) => setStatus(e.target.value)}
          options={[{ value: "", label: "Any" }, { value: "active", label: "Active" }, { value: "disabled", label: "Disabled" }]} />
        <div className="filter-actions"><Button type="submit" variant="primary">Search</Button></div>
      </form>
      <ListView list={users} label="users" empty={(
        <EmptyState title="Nobody matches"><p>No account matches this search.</p></EmptyState>
      )}>
        {(rows) => <Table caption="Users" columns={columns} rows={rows} rowKey={(u) => u.id} />}
      </ListView>

      <NewUserDialog open={creating} onClose={() => setCreating(false)}
        onCreated={(user) => { setCreating(false); toast.success(`Account for ${user.email} created.`); users.reload(); if (!user.hasPassword) setResetFor(user); }} />

      <ResetLinkDialog user={resetFor} onClose={() => setResetFor(null)} />

      <ConfirmDialog open={disabling !== null} title="Disable the account?" confirmLabel="Disable account" onClose={() => setDisabling(null)}
        onConfirm={async () => {
          if (!disabling) return;
          const saved = await instanceApi.updateUser(disabling, { status: "disabled" });
          users.update((rows) => rows.map((u) => (u.id === saved.id ? saved : u)));
          toast.success(`${saved.displayName} disabled.`);
          setDisabling(null);
        }}>
        <p><strong>{disabling?.displayName}</strong> is signed out everywhere and their API keys stop working at once. Enabling them again restores their access.</p>
      </ConfirmDialog>
    </section>
  );
}

function NewUserDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (user: User) => void }) {
  const [email, setEmail] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState("none");
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission({ keepBusyOnSuccess: true });
  useEffect(() => { if (open) { setEmail(""); setDisplayName(""); setPassword(""); setRole("none"); reset(); } }, [open, reset]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => onCreated(await instanceApi.createUser({
      email, displayName, password: password || undefined, instanceRole: role === "none" ? undefined : role,
    })));
  };

  return (
    <Dialog open={open} title="New user" onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        {error != null && <ProblemBanner error={error} />}
        <Input label="E-mail address" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoFocus errors={errors.email} />
        <Input label="Display name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} required errors={errors.displayName} />
        <Input label="Password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" errors={errors.password}
          hint="Optional: without one, you pass on a reset link and they choose their own." />
        <Select label="Instance role" value={role} onChange={(e) => setRole(e.target.value)} options={instanceRoles} errors={errors.instanceRole}
          hint="Instance admins manage every account and workspace; most people need none." />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Create user</Button>
        </div>
      </form>
    </Dialog>
  );
}

/** Makes a one-time password reset link: mailed when SMTP is set up, else shown here once to pass on. */
function ResetLinkDialog({ user, onClose }: { user: User | null; onClose: () => void }) {
  const { busy, error, run, reset } = useSubmission();
  const [link, setLink] = useState<OneTimeLink | null>(null);
  useEffect(() => { reset(); setLink(null); }, [user, reset]);

  return (
    <Dialog open={user !== null} title={`Password reset for ${user?.displayName ?? ""}`} onClose={onClose}>
      <div className="stack">
        {error != null && <ProblemBanner error={error} />}
        {link ? (
          <>
            {link.link
              ? <OneTimeSecret label="Reset link" value={link.link} warning="The link works once and sets a new password for this person; send it to them privately." />
              : <p>The link was mailed to <strong>{user?.email}</strong>.</p>}
            <p className="muted">It expires <Time value={link.expiresAt} />.</p>
            <div className="dialog-actions"><Button variant="primary" onClick={onClose}>Done</Button></div>
          </>
        ) : (
          <>
            <p>A one-time link lets <strong>{user?.email}</strong> choose a new password.</p>
            <div className="dialog-actions">
              <Button onClick={onClose}>Cancel</Button>
              <Button variant="primary" busy={busy} onClick={() => void run(async () => { if (user) setLink(await instanceApi.passwordReset(user.id)); })}>Make the link</Button>
            </div>
          </>
        )}
      </div>
    </Dialog>
  );
}
