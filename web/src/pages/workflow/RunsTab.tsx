import { PlannedPage } from "../../components/PlannedPage";

export function RunsTab() {
  return <PlannedPage title="Runs" />;
}
