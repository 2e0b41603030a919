import { PlannedPage } from "../../components/PlannedPage";

export function AnalyticsTab() {
  return <PlannedPage title="Analytics" />;
}
