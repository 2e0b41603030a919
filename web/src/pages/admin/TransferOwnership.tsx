import { useEffect, useState } from "react";
import { admin, type Member, type WorkspaceDetails } from "../../api/admin";
import { useSignedIn } from "../../app/session";
import { Button, Select, useToast } from "../../components";
import { ConfirmDialog } from "./shared";

/** For owners: make another member owner, confirmed by typing the workspace's name; the one handing over becomes admin. */
export function TransferOwnership({ details }: { details: WorkspaceDetails }) {
  const { me, refresh } = useSignedIn();
  const toast = useToast();
  const [members, setMembers] = useState<Member[]>([]);
  const [to, setTo] = useState("");
  const [confirming, setConfirming] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    admin.members(details.name, {}, abort.signal)
      .then((page) => setMembers(page.results.filter((m) => m.user.id !== me.user?.id && m.user.status === "active")))
      .catch(() => { if (!abort.signal.aborted) setMembers([]); });
    return () => abort.abort();
  }, [details.name, me.user?.id]);

  const chosen = members.find((m) => m.user.id === to);
  return (
    <section className="danger-zone" aria-labelledby="transfer-heading">
      <h2 id="transfer-heading">Transfer ownership</h2>
      <p>Make another member owner of this workspace. If you are its owner, you become an admin.</p>
      {members.length === 0 ? <p className="muted">Add the person as a member first.</p> : (
        <div className="transfer-row">
          <Select label="New owner" value={to} onChange={(e) => setTo(e.target.value)}
            options={[{ value: "", label: "Choose a member" }, ...members.map((m) => ({ value: m.user.id, label: `${m.user.displayName} (${m.user.email}) · ${m.role}` }))]} />
          <Button variant="danger" disabled={!chosen} onClick={() => setConfirming(true)}>Transfer ownership…</Button>
        </div>
      )}
      <ConfirmDialog open={confirming} title="Transfer ownership?" confirmLabel="Transfer ownership" typed={details.name} onClose={() => setConfirming(false)}
        onConfirm={async () => {
          if (!chosen) return;
          await admin.transferOwnership(details.name, chosen.user.id);
          setConfirming(false);
          toast.success(`${chosen.user.displayName} now owns ${details.displayName}.`);
          await refresh();
        }}>
        <p><strong>{chosen?.user.displayName}</strong> becomes owner of <strong>{details.displayName}</strong>, with every right over it, deleting it included.</p>
      </ConfirmDialog>
    </section>
  );
}
