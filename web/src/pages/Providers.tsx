// Placeholder until this page is built.
import { PageHeader } from "../components/ui";

export default function Providers() {
  return <PageHeader title="Providers" subtitle="This page is being built." />;
}
