// Placeholder until this page is built.
import { PageHeader } from "../components/ui";

export default function Subscriptions() {
  return <PageHeader title="Subscriptions" subtitle="This page is being built." />;
}
