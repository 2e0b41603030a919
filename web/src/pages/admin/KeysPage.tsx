import { PlannedPage } from "../../components/PlannedPage";

export function KeysPage() {
  return <PlannedPage title="API keys" />;
}
