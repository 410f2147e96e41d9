// Placeholder until this page is built.
import { PageHeader } from "../components/ui";

export default function Services() {
  return <PageHeader title="Services" subtitle="This page is being built." />;
}
