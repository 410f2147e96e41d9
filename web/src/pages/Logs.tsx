// Placeholder until this page is built.
import { PageHeader } from "../components/ui";

export default function Logs() {
  return <PageHeader title="Logs" subtitle="This page is being built." />;
}
