import { PlannedPage } from "../../components/PlannedPage";

export function ConfigurationTab() {
  return <PlannedPage title="Configuration" />;
}
