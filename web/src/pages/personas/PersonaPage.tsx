import { PlannedPage } from "../../components/PlannedPage";

export function PersonaPage() {
  return <PlannedPage title="Persona" />;
}
