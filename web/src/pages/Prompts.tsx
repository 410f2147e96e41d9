// Placeholder until this page is built.
import { PageHeader } from "../components/ui";

export default function Prompts() {
  return <PageHeader title="Prompts" subtitle="This page is being built." />;
}
