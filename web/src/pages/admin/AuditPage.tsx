import { PlannedPage } from "../../components/PlannedPage";

export function AuditPage() {
  return <PlannedPage title="Audit log" />;
}
