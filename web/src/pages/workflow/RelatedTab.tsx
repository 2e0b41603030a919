import { PlannedPage } from "../../components/PlannedPage";

export function RelatedTab() {
  return <PlannedPage title="Related" />;
}
