// Placeholder until this page is built.
import { PageHeader } from "../components/ui";

export default function Models() {
  return <PageHeader title="Models" subtitle="This page is being built." />;
}
