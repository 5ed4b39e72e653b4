import { StatusView } from "./status-view";

export const metadata = { title: "Pool status · next-db-connect example" };

export default function StatusPage() {
  return <StatusView intervalMs={1000} />;
}
