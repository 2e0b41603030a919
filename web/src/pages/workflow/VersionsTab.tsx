import { PlannedPage } from "../../components/PlannedPage";

export function VersionsTab() {
  return <PlannedPage title="Versions" />;
}
