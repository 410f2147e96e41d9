// Placeholder until this page is built.
import { PageHeader } from "../components/ui";

export default function Analytics() {
  return <PageHeader title="Analytics" subtitle="This page is being built." />;
}
