import { PlannedPage } from "../../components/PlannedPage";

export function WorkspaceAnalyticsPage() {
  return <PlannedPage title="Analytics" />;
}
