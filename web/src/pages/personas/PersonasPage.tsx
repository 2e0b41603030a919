import { PlannedPage } from "../../components/PlannedPage";

export function PersonasPage() {
  return <PlannedPage title="Personas" />;
}
