// Placeholder until this page is built.
import { PageHeader } from "../components/ui";

export default function Dashboard() {
  return <PageHeader title="Dashboard" subtitle="This page is being built." />;
}
