// Placeholder until this page is built.
import { PageHeader } from "../components/ui";

export default function Users() {
  return <PageHeader title="Users" subtitle="This page is being built." />;
}
