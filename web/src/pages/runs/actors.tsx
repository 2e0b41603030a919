// Names for the IDs runs and approvals carry (who started a run, approvers, who decided): the workspace's members
// and teams, read once per workspace and page view; an ID nobody here knows (a service account, a former member)
// stays as it is, in code type.
import { useEffect, useState } from "react";
import { http, type Page } from "../../api/client";
import { useSignedIn } from "../../app/session";

interface Member { user: { id: string; displayName: string; email: string } }
interface Team { id: string; name: string }

const cache = new Map<string, Promise<Map<string, string>>>();

function load(workspace: string): Promise<Map<string, string>> {
  let found = cache.get(workspace);
  if (!found) {
    const base = `/api/v1/workspaces/${encodeURIComponent(workspace)}`;
    found = Promise.all([
      http.get<Page<Member>>(`${base}/members`, { query: { limit: 100 } }).catch(() => null),
      http.get<Page<Team>>(`${base}/teams`, { query: { limit: 100 } }).catch(() => null),
    ]).then(([members, teams]) => {
      const names = new Map<string, string>();
      for (const m of members?.results ?? []) names.set(m.user.id, m.user.displayName || m.user.email);
      for (const t of teams?.results ?? []) names.set(t.id, `team ${t.name}`);
      return names;
    });
    cache.set(workspace, found);
    // Read again on the next page that asks after a minute: members and teams change.
    window.setTimeout(() => cache.delete(workspace), 60_000);
  }
  return found;
}

/** A function naming an actor ID: "you", a member's name, "team …", or the ID itself. */
export function useActorNames(workspace: string): (id: string | null | undefined) => string {
  const { me } = useSignedIn();
  const [names, setNames] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    let cancelled = false;
    void load(workspace).then((found) => { if (!cancelled) setNames(found); });
    return () => { cancelled = true; };
  }, [workspace]);
  const myId = me.user?.id ?? me.actor.id;
  return (id) => (!id ? "—" : id === myId ? "you" : names.get(id) ?? id);
}

/** An actor's name, with the ID on hover. */
export function ActorName({ id, name }: { id: string | null | undefined; name: (id: string | null | undefined) => string }) {
  if (!id) return <span className="muted">—</span>;
  const shown = name(id);
  return shown === id ? <code>{id}</code> : <span title={id}>{shown}</span>;
}
