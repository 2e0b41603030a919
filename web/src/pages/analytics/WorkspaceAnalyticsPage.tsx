import { Link, useParams } from "react-router";
import { analyticsPaths } from "../../api/analytics";
import { AnalyticsPanel } from "./AnalyticsPanel";

/** The workspace's analytics: every workflow's runs, cost and approvals, with the top workflows. */
export function WorkspaceAnalyticsPage() {
  const { workspace = "" } = useParams();
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Analytics</h1>
          <p className="muted">Where this workspace's runs, time and money go.</p>
        </div>
      </header>
      <AnalyticsPanel workspace={workspace} path={analyticsPaths.workspace(workspace)} subject="this workspace's workflows"
        emptyHint={<p><Link to={`/w/${encodeURIComponent(workspace)}/workflows`}>Start a run of a workflow</Link> and its figures appear here at once.</p>} />
    </div>
  );
}
