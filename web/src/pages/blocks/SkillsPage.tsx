import { PlannedPage } from "../../components/PlannedPage";

export function SkillsPage() {
  return <PlannedPage title="Skills" />;
}
