// Placeholder until this page is built.
import { PageHeader } from "../components/ui";

export default function Consumers() {
  return <PageHeader title="Consumers" subtitle="This page is being built." />;
}
