import { PlannedPage } from "../../components/PlannedPage";

export function ProvidersPage() {
  return <PlannedPage title="Providers" />;
}
