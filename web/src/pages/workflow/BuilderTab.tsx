import { PlannedPage } from "../../components/PlannedPage";

export function BuilderTab() {
  return <PlannedPage title="Builder" />;
}
