import { PlannedPage } from "../../components/PlannedPage";

export function GuardrailsPage() {
  return <PlannedPage title="Guardrails" />;
}
