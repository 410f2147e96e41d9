// Placeholder until this page is built.
import { PageHeader } from "../components/ui";

export default function Audit() {
  return <PageHeader title="Audit" subtitle="This page is being built." />;
}
