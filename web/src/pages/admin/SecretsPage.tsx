import { PlannedPage } from "../../components/PlannedPage";

export function SecretsPage() {
  return <PlannedPage title="Secrets" />;
}
