import { useState, type FormEvent } from "react";
import { Navigate } from "react-router";
import { api } from "../api/cadre";
import { Button, Dialog, EmptyState, Input, ProblemBanner, useSubmission } from "../components";
import { useSignedIn } from "../app/session";

/** Opens the person's first workspace; without one, explains how to get one. */
export function HomePage() {
  const { me, workspaces } = useSignedIn();
  const [creating, setCreating] = useState(false);
  const first = workspaces[0];
  if (first) return <Navigate to={`/w/${encodeURIComponent(first.name)}/workflows`} replace />;

  const isInstanceAdmin = me.instanceRole === "owner" || me.instanceRole === "admin";
  return (
    <>
      <EmptyState
        title="No workspace yet"
        action={isInstanceAdmin && <Button variant="primary" onClick={() => setCreating(true)}>Create a workspace</Button>}
      >
        {isInstanceAdmin
          ? <p>A workspace holds a team's personas, workflows, runs and secrets, and decides who may see and change them. Create the first one, then invite people to it.</p>
          : <p>You are not a member of any workspace. Ask a workspace admin to invite you, or an instance admin to create one for you.</p>}
      </EmptyState>
      <CreateWorkspaceDialog open={creating} onClose={() => setCreating(false)} />
    </>
  );
}

function CreateWorkspaceDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { refresh } = useSignedIn();
  const [displayName, setDisplayName] = useState("");
  const [name, setName] = useState("");
  const { busy, error, fieldErrors, run } = useSubmission();
  const slug = name || displayName.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      await api.createWorkspace({ name: slug, displayName });
      await refresh();
      onClose();
    });
  };

  return (
    <Dialog open={open} title="Create a workspace" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        {error != null && <ProblemBanner error={error} />}
        <Input label="Display name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} required autoFocus errors={fieldErrors.displayName} />
        <Input label="Name in URLs" value={slug} onChange={(e) => setName(e.target.value)} required errors={fieldErrors.name}
          hint="Lowercase letters, digits and dashes; it names the workspace in the API." />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Create</Button>
        </div>
      </form>
    </Dialog>
  );
}
