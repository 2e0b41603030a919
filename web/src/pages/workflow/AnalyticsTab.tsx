import { analyticsPaths } from "../../api/analytics";
import { AnalyticsPanel } from "../analytics/AnalyticsPanel";
import { useWorkflow } from "./WorkflowPage";

/** A workflow's analytics: its runs, success rate, durations and cost, by model, persona, version and step. */
export function AnalyticsTab() {
  const { workspace, workflow } = useWorkflow();
  return (
    <AnalyticsPanel workspace={workspace} path={analyticsPaths.workflow(workspace, workflow.id)} subject="this workflow"
      emptyHint={<p>Start a run with <strong>Start run</strong> above; its figures count as soon as it comes to rest.</p>} />
  );
}
