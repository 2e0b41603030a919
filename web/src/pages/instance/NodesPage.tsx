import { useEffect, useState } from "react";
import { instanceApi, type Node } from "../../api/instance";
import type { Page } from "../../api/client";
import { EmptyState, LoadFailed, Loading, Select, Table, Time, type Column } from "../../components";
import { plural } from "../admin/shared";

/** How often the list asks again: a node's heartbeat is the thing to watch, so the page keeps up by itself. */
const refreshEvery = 5000;

const statusClass: Record<string, string> = { live: "succeeded", dead: "failed", stopped: "waiting" };

/** The Cadre nodes on this database: role, version, heartbeat and whether each is live, dead or stopped. */
export function NodesPage() {
  const [status, setStatus] = useState("");
  const [page, setPage] = useState<Page<Node> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    const load = () => instanceApi.nodes(status, abort.signal)
      .then((result) => { setPage(result); setError(null); })
      .catch((e: unknown) => { if (!abort.signal.aborted) setError(e); });
    void load();
    const timer = window.setInterval(() => void load(), refreshEvery);
    return () => { abort.abort(); window.clearInterval(timer); };
  }, [status, attempt]);

  const columns: Column<Node>[] = [
    { key: "name", header: "Node", cell: (n) => <div className="cell-name"><span className="strong">{n.name}</span><code className="muted">{n.id}</code></div> },
    { key: "status", header: "Status", cell: (n) => <span className={`status status-${statusClass[n.status] ?? "waiting"}`}>{n.status}</span> },
    { key: "role", header: "Role", cell: (n) => <span className="badge">{n.role}</span> },
    { key: "version", header: "Version", cell: (n) => <code>{n.version}</code> },
    { key: "heartbeat", header: "Last heartbeat", cell: (n) => <Time value={n.lastHeartbeatAt} /> },
    { key: "tasks", header: "Tasks in flight", cell: (n) => n.tasksInFlight },
    { key: "started", header: "Started", cell: (n) => <Time value={n.startedAt} /> },
    { key: "stopped", header: "Stopped", cell: (n) => (n.stoppedAt ? <Time value={n.stoppedAt} /> : <span className="muted">—</span>) },
  ];

  return (
    <section className="section" aria-labelledby="nodes-heading">
      <div className="section-header">
        <h2 id="nodes-heading">Nodes {page && <span className="muted">({plural(page.count, "node")})</span>}</h2>
        <Select label="Show" className="field-beside" value={status} onChange={(e) => setStatus(e.target.value)}
          options={[{ value: "", label: "All nodes" }, { value: "live", label: "Live" }, { value: "dead", label: "Dead" }, { value: "stopped", label: "Stopped" }]} />
      </div>
      <p className="muted">Refreshed every {refreshEvery / 1000} seconds. A node with no heartbeat for a while is dead and its tasks go back to the queue; rows of nodes stopped or dead for over a day are removed.</p>
      {error != null && <LoadFailed error={error} onRetry={() => setAttempt((n) => n + 1)} />}
      {error == null && !page && <Loading label="Loading nodes…" />}
      {error == null && page && page.results.length === 0 && (
        <EmptyState title={status ? `No ${status} nodes` : "No nodes"}><p>{status ? "Choose “All nodes” to see the others." : "No node has registered on this database."}</p></EmptyState>
      )}
      {error == null && page && page.results.length > 0 && <Table caption="Nodes" columns={columns} rows={page.results} rowKey={(n) => n.id} />}
    </section>
  );
}
