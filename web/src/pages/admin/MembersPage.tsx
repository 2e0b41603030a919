import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useNavigate, useParams } from "react-router";
import { admin, type CreatedInvitation, type Invitation, type Member, type Team, type TeamMember } from "../../api/admin";
import type { WorkspaceRole } from "../../api/types";
import { Button, Dialog, EmptyState, Input, Loading, ProblemBanner, Select, Table, TextArea, Time, useSubmission, useToast, type Column } from "../../components";
import { useIsAdmin, useWorkspaceRole } from "../../app/permissions";
import { useSignedIn } from "../../app/session";
import { atMost, grantableRoles } from "./roles";
import { ActorName, ConfirmDialog, ListView, OneTimeSecret, plural, usePagedList } from "./shared";

/** The workspace's people: members and their roles, pending invitations, and teams (which approvals can name). */
export function MembersPage() {
  const { workspace = "" } = useParams();
  const isAdmin = useIsAdmin(workspace);
  const myRole = useWorkspaceRole(workspace);
  const { me, refresh } = useSignedIn();
  const navigate = useNavigate();
  const toast = useToast();
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [inviting, setInviting] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);

  useEffect(() => {
    const timer = window.setTimeout(() => setQuery(search), 300);
    return () => window.clearTimeout(timer);
  }, [search]);

  const loadMembers = useCallback((link: string | null, signal: AbortSignal) => admin.members(workspace, { search: query, link }, signal), [workspace, query]);
  const members = usePagedList(loadMembers, `${workspace}|${query}`);

  const changeRole = async (member: Member, role: WorkspaceRole) => {
    const previous = member.role;
    members.update((rows) => rows.map((m) => (m.user.id === member.user.id ? { ...m, role } : m)));
    try {
      const saved = await admin.updateMember(workspace, member.user.id, role);
      members.update((rows) => rows.map((m) => (m.user.id === saved.user.id ? saved : m)));
      toast.success(`${member.user.displayName || member.user.email} is now ${role}.`);
      if (member.user.id === me.user?.id) await refresh();
    } catch (e) {
      members.update((rows) => rows.map((m) => (m.user.id === member.user.id ? { ...m, role: previous } : m)));
      toast.error(e);
    }
  };

  const memberColumns: Column<Member>[] = [
    {
      key: "name", header: "Member", cell: (m) => (
        <div className="cell-name">
          <span className="strong">{m.user.displayName}{m.user.id === me.user?.id && <span className="muted"> (you)</span>}</span>
          <span className="muted">{m.user.email}</span>
        </div>
      ),
    },
    {
      key: "role", header: "Role", cell: (m) => {
        const editable = isAdmin && atMost(m.role, myRole);
        if (!editable) return <span className="badge">{m.role}</span>;
        return (
          <label className="inline-select">
            <span className="visually-hidden">Role of {m.user.displayName || m.user.email}</span>
            <select value={m.role} onChange={(e) => void changeRole(m, e.target.value as WorkspaceRole)}>
              {grantableRoles(myRole).map((r) => <option key={r.value} value={r.value}>{r.value}</option>)}
            </select>
          </label>
        );
      },
    },
    { key: "status", header: "Account", cell: (m) => (m.user.status === "active" ? <span className="muted">active</span> : <span className="status status-halted">{m.user.status}</span>) },
    { key: "added", header: "Member since", cell: (m) => <><Time value={m.createdAt} />{m.addedBy && <span className="muted"> by <ActorName actor={m.addedBy} /></span>}</> },
    {
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (m) => {
        const self = m.user.id === me.user?.id;
        if (!self && !(isAdmin && atMost(m.role, myRole))) return null;
        return <Button variant="ghost" onClick={() => setRemoving(m)} aria-label={self ? "Leave the workspace" : `Remove ${m.user.displayName || m.user.email}`}>{self ? "Leave" : "Remove"}</Button>;
      },
    },
  ];

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Members</h1>
          {members.page && <p className="muted" aria-live="polite">{plural(members.page.count, "member")}{query && ` matching “${query}”`}</p>}
        </div>
        <div className="page-actions">
          <div className="search">
            <Input label="Search members" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name or e-mail…" className="field-inline" />
          </div>
          {isAdmin && <Button variant="primary" onClick={() => setInviting(true)}>Invite people</Button>}
        </div>
      </header>
      {!isAdmin && (
        <p className="page-intro muted">
          Only admins and owners of this workspace invite people and change roles{myRole && <>; your role here is <strong>{myRole}</strong></>}.
        </p>
      )}

      <section className="section" aria-labelledby="members-heading">
        <h2 id="members-heading" className="visually-hidden">Members</h2>
        <ListView list={members} label="members" empty={query ? (
          <EmptyState title="No member matches" action={<Button onClick={() => setSearch("")}>Clear the search</Button>}>
            <p>Nobody here matches “{query}”.</p>
          </EmptyState>
        ) : (
          <EmptyState title="No members yet" action={isAdmin && <Button variant="primary" onClick={() => setInviting(true)}>Invite someone</Button>}>
            <p>Instance admins reach every workspace without being members. Invite the people who build and run workflows here, each with the role they need.</p>
          </EmptyState>
        )}>
          {(rows) => <Table caption="Members" columns={memberColumns} rows={rows} rowKey={(m) => m.user.id} />}
        </ListView>
      </section>

      {isAdmin && (
        <InvitationsSection workspace={workspace} myRole={myRole} inviting={inviting} setInviting={setInviting}
          onAdded={(m) => { toast.success(`${m.user.displayName || m.user.email} added as ${m.role}.`); members.reload(); }} />
      )}
      <TeamsSection workspace={workspace} isAdmin={isAdmin} />

      <ConfirmDialog open={removing !== null} title={removing?.user.id === me.user?.id ? "Leave the workspace?" : "Remove the member?"}
        confirmLabel={removing?.user.id === me.user?.id ? "Leave" : "Remove member"} onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          await admin.removeMember(workspace, removing.user.id);
          const self = removing.user.id === me.user?.id;
          setRemoving(null);
          if (self) {
            await refresh();
            navigate("/");
            return;
          }
          toast.success(`${removing.user.displayName || removing.user.email} removed.`);
          members.reload();
        }}>
        <p>
          <strong>{removing?.user.displayName || removing?.user.email}</strong> loses access to this workspace; their personal keys
          limited to it stop working and they leave its teams. Their past work stays.
        </p>
      </ConfirmDialog>
    </div>
  );
}

function InvitationsSection({ workspace, myRole, inviting, setInviting, onAdded }: {
  workspace: string;
  myRole: WorkspaceRole | null;
  inviting: boolean;
  setInviting: (open: boolean) => void;
  onAdded: (member: Member) => void;
}) {
  const toast = useToast();
  const [status, setStatus] = useState("pending");
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const load = useCallback((link: string | null, signal: AbortSignal) => admin.invitations(workspace, { status, link }, signal), [workspace, status]);
  const invitations = usePagedList(load, `${workspace}|${status}`);

  const columns: Column<Invitation>[] = [
    { key: "email", header: "Invited", cell: (i) => <span className="strong">{i.email}</span> },
    { key: "role", header: "Role", cell: (i) => <span className="badge">{i.role}</span> },
    { key: "status", header: "Status", cell: (i) => <span className={`status status-${i.status === "accepted" ? "succeeded" : i.status === "pending" ? "waiting" : "halted"}`}>{i.status}</span> },
    { key: "by", header: "By", cell: (i) => <ActorName actor={i.invitedBy} /> },
    { key: "sent", header: "Sent", cell: (i) => <Time value={i.createdAt} /> },
    { key: "expires", header: "Expires", cell: (i) => <Time value={i.expiresAt} /> },
    {
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (i) =>
        i.status === "pending" ? <Button variant="ghost" onClick={() => setRevoking(i)} aria-label={`Withdraw the invitation of ${i.email}`}>Withdraw</Button> : null,
    },
  ];

  return (
    <section className="section" aria-labelledby="invitations-heading">
      <div className="section-header">
        <h2 id="invitations-heading">Invitations {invitations.page && <span className="muted">({invitations.page.count})</span>}</h2>
        <Select label="Show" className="field-beside" value={status} onChange={(e) => setStatus(e.target.value)}
          options={[{ value: "pending", label: "Pending" }, { value: "", label: "All" }, { value: "accepted", label: "Accepted" }, { value: "expired", label: "Expired" }, { value: "revoked", label: "Withdrawn" }]} />
      </div>
      <ListView list={invitations} label="invitations" empty={(
        <p className="muted">{status === "pending" ? "No invitation is waiting for an answer." : "No invitations to show."}</p>
      )}>
        {(rows) => <Table caption="Invitations" columns={columns} rows={rows} rowKey={(i) => i.id} />}
      </ListView>

      <InviteDialog workspace={workspace} open={inviting} myRole={myRole} onClose={() => setInviting(false)} onAdded={onAdded}
        onInvited={(invitation) => {
          toast.success(invitation.delivery === "email" ? `Invitation mailed to ${invitation.email}.` : `Invitation for ${invitation.email} created.`);
          invitations.reload();
        }} />

      <ConfirmDialog open={revoking !== null} title="Withdraw the invitation?" confirmLabel="Withdraw invitation" onClose={() => setRevoking(null)}
        onConfirm={async () => {
          if (!revoking) return;
          await admin.revokeInvitation(workspace, revoking);
          toast.success(`Invitation of ${revoking.email} withdrawn.`);
          setRevoking(null);
          invitations.reload();
        }}>
        <p>The link sent to <strong>{revoking?.email}</strong> stops working. You can invite the address again later.</p>
      </ConfirmDialog>
    </section>
  );
}

/** Invites by address; when the server cannot mail, it answers the link once, and the dialog shows it to pass on. */
function InviteDialog({ workspace, open, myRole, onClose, onInvited, onAdded }: {
  workspace: string;
  open: boolean;
  myRole: WorkspaceRole | null;
  onClose: () => void;
  onInvited: (invitation: CreatedInvitation) => void;
  onAdded: (member: Member) => void;
}) {
  const [email, setEmail] = useState("");
  const [existing, setExisting] = useState(false);
  const [role, setRole] = useState("editor");
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission();
  const [created, setCreated] = useState<CreatedInvitation | null>(null);
  useEffect(() => { if (open) { setEmail(""); setRole("editor"); setExisting(false); reset(); } setCreated(null); }, [open, reset]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      if (existing) {
        const member = await admin.addMember(workspace, { email, role });
        onAdded(member);
        onClose();
        return;
      }
      const invitation = await admin.invite(workspace, { email, role });
      onInvited(invitation);
      if (invitation.delivery === "email" || !invitation.link) onClose();
      else setCreated(invitation);
    });
  };

  return (
    <Dialog open={open} title={created ? "Pass the link on" : "Invite people"} onClose={onClose}>
      {created?.link ? (
        <div className="stack">
          <OneTimeSecret label={`Invitation link for ${created.email}`} value={created.link}
            warning={<>This server sends no e-mail, so send this link to <strong>{created.email}</strong> yourself. It is shown only now, works once, and expires <Time value={created.expiresAt} />.</>} />
          <div className="dialog-actions"><Button variant="primary" onClick={onClose}>Done</Button></div>
        </div>
      ) : (
        <form className="stack" onSubmit={(e) => void submit(e)}>
          {error != null && <ProblemBanner error={error} />}
          <Input label="E-mail address" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoFocus errors={errors.email}
            hint="They join with this address; a new account is made if it has none. Inviting an address again replaces its earlier link." />
          <Select label="Role" value={role} onChange={(e) => setRole(e.target.value)} options={grantableRoles(myRole)} errors={errors.role} />
          <label className="checkbox">
            <input type="checkbox" checked={existing} onChange={(e) => setExisting(e.target.checked)} />
            They already have an account on this server: add them now, without an invitation
          </label>
          <div className="dialog-actions">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" busy={busy}>{existing ? "Add member" : "Send invitation"}</Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

function TeamsSection({ workspace, isAdmin }: { workspace: string; isAdmin: boolean }) {
  const toast = useToast();
  const [creating, setCreating] = useState(false);
  const [open, setOpen] = useState<Team | null>(null);
  const [deleting, setDeleting] = useState<Team | null>(null);
  const load = useCallback((link: string | null, signal: AbortSignal) => admin.teams(workspace, link, signal), [workspace]);
  const teams = usePagedList(load, workspace);

  const columns: Column<Team>[] = [
    { key: "name", header: "Team", cell: (t) => <div className="cell-name"><span className="strong">{t.name}</span>{t.description && <span className="muted">{t.description}</span>}</div> },
    { key: "members", header: "Members", cell: (t) => t.memberCount },
    { key: "id", header: "ID", cell: (t) => <code className="muted">{t.id}</code> },
    { key: "updated", header: "Updated", cell: (t) => <Time value={t.updatedAt} /> },
    {
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (t) => (
        <div className="row-actions">
          <Button onClick={() => setOpen(t)} aria-label={`${isAdmin ? "Manage" : "View"} team ${t.name}`}>{isAdmin ? "Manage" : "View"}</Button>
          {isAdmin && <Button variant="ghost" onClick={() => setDeleting(t)} aria-label={`Delete team ${t.name}`}>Delete</Button>}
        </div>
      ),
    },
  ];

  return (
    <section className="section" aria-labelledby="teams-heading">
      <div className="section-header">
        <h2 id="teams-heading">Teams {teams.page && <span className="muted">({teams.page.count})</span>}</h2>
        {isAdmin && <Button onClick={() => setCreating(true)}>New team</Button>}
      </div>
      <ListView list={teams} label="teams" empty={(
        <p className="muted">No teams yet. A team groups members so an approval can name “finance” instead of each person.</p>
      )}>
        {(rows) => <Table caption="Teams" columns={columns} rows={rows} rowKey={(t) => t.id} />}
      </ListView>

      <NewTeamDialog workspace={workspace} open={creating} onClose={() => setCreating(false)}
        onCreated={(team) => { setCreating(false); toast.success(`Team ${team.name} created.`); teams.reload(); setOpen(team); }} />
      <TeamDialog workspace={workspace} team={open} isAdmin={isAdmin} onClose={() => setOpen(null)} onChanged={teams.reload} />
      <ConfirmDialog open={deleting !== null} title="Delete the team?" confirmLabel="Delete team" onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await admin.deleteTeam(workspace, deleting);
          toast.success(`Team ${deleting.name} deleted.`);
          setDeleting(null);
          teams.reload();
        }}>
        <p>The team <strong>{deleting?.name}</strong> goes; its members stay in the workspace. Approvals that name it will have one approver less.</p>
      </ConfirmDialog>
    </section>
  );
}

function NewTeamDialog({ workspace, open, onClose, onCreated }: { workspace: string; open: boolean; onClose: () => void; onCreated: (team: Team) => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission({ keepBusyOnSuccess: true });
  useEffect(() => { if (open) { setName(""); setDescription(""); reset(); } }, [open, reset]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => onCreated(await admin.createTeam(workspace, { name, description: description || undefined })));
  };

  return (
    <Dialog open={open} title="New team" onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        {error != null && <ProblemBanner error={error} />}
        <Input label="Team name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus errors={errors.name} />
        <TextArea label="Description" value={description} onChange={(e) => setDescription(e.target.value)} rows={2} errors={errors.description} />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Create team</Button>
        </div>
      </form>
    </Dialog>
  );
}

/** A team's members; admins add workspace members to it and take them out. */
function TeamDialog({ workspace, team, isAdmin, onClose, onChanged }: {
  workspace: string;
  team: Team | null;
  isAdmin: boolean;
  onClose: () => void;
  onChanged: () => void;
}) {
  const toast = useToast();
  const [people, setPeople] = useState<TeamMember[] | null>(null);
  const [candidates, setCandidates] = useState<Member[]>([]);
  const [adding, setAdding] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    if (!team) { setPeople(null); return; }
    let stale = false;
    setError(null);
    Promise.all([admin.teamMembers(workspace, team.id), isAdmin ? admin.members(workspace, {}) : Promise.resolve(null)])
      .then(([inTeam, all]) => {
        if (stale) return;
        setPeople(inTeam.results);
        setCandidates(all ? all.results.filter((m) => !inTeam.results.some((p) => p.user.id === m.user.id)) : []);
      })
      .catch((e: unknown) => { if (!stale) setError(e); });
    return () => { stale = true; };
  }, [workspace, team, isAdmin, generation]);

  const change = async (action: () => Promise<unknown>, message: string) => {
    try {
      await action();
      toast.success(message);
      setAdding("");
      setGeneration((n) => n + 1);
      onChanged();
    } catch (e) {
      toast.error(e);
    }
  };

  return (
    <Dialog open={team !== null} title={`Team ${team?.name ?? ""}`} onClose={onClose}>
      <div className="stack">
        {error != null && <ProblemBanner error={error} />}
        {people === null && error == null && <Loading label="Loading the team…" />}
        {people && (people.length === 0
          ? <p className="muted">Nobody is in this team yet.</p>
          : (
            <ul className="plain-list">
              {people.map((p) => (
                <li key={p.user.id}>
                  <span><span className="strong">{p.user.displayName}</span> <span className="muted">{p.user.email}</span></span>
                  {isAdmin && team && (
                    <Button variant="ghost" aria-label={`Remove ${p.user.displayName || p.user.email} from the team`}
                      onClick={() => void change(() => admin.removeTeamMember(workspace, team.id, p.user.id), `${p.user.displayName || p.user.email} left ${team.name}.`)}>Remove</Button>
                  )}
                </li>
              ))}
            </ul>
          ))}
        {isAdmin && team && people && (
          <form className="inline-form" onSubmit={(e) => {
            e.preventDefault();
            if (adding) void change(() => admin.addTeamMember(workspace, team.id, adding), `Added to ${team.name}.`);
          }}>
            <Select label="Add a member" value={adding} onChange={(e) => setAdding(e.target.value)}
              options={[{ value: "", label: candidates.length ? "Choose a member…" : "Every member is in the team" },
                ...candidates.map((m) => ({ value: m.user.id, label: `${m.user.displayName} (${m.user.email})` }))]} />
            <Button type="submit" disabled={!adding}>Add</Button>
          </form>
        )}
        <div className="dialog-actions"><Button onClick={onClose}>Close</Button></div>
      </div>
    </Dialog>
  );
}
