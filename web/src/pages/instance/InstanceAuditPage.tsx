import { auditFilterNames } from "../../api/audit";
import { instanceApi } from "../../api/instance";
import { AuditLog, type AuditSource } from "../admin/AuditPage";

const source: AuditSource = {
  key: "instance",
  filterNames: [...auditFilterNames, "workspace"],
  list: (filters, options, signal) => instanceApi.audit(filters, options, signal),
  exportUrl: (filters, format) => instanceApi.auditExportUrl(filters, format),
  canExport: true,
  workspace: null,
};

/** The whole instance's audit log: instance-level entries (sign-ins, accounts, the encryption key) and every workspace's. */
export function InstanceAuditPage() {
  return (
    <section className="section">
      <AuditLog source={source} title={<h2>Audit log</h2>} />
    </section>
  );
}
