import { PlannedPage } from "../../components/PlannedPage";

export function MembersPage() {
  return <PlannedPage title="Members" />;
}
