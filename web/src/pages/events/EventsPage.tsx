import { PlannedPage } from "../../components/PlannedPage";

export function EventsPage() {
  return <PlannedPage title="Events" />;
}
