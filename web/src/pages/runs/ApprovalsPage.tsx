import { PlannedPage } from "../../components/PlannedPage";

export function ApprovalsPage() {
  return <PlannedPage title="Approvals" />;
}
