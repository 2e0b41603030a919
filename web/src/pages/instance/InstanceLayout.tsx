import { Outlet } from "react-router";
import { useSignedIn } from "../../app/session";
import { Tabs } from "../../components";

/**
 * The instance's administration (instance owners and admins): accounts, nodes, the encryption key and the
 * instance-wide audit log, one tab each. Others may open it; each page then shows the API's refusal.
 */
export function InstanceLayout() {
  const { me } = useSignedIn();
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Instance</h1>
          <p className="muted">Everything above the workspaces: who has an account, the nodes that run work, the key that seals secrets, and the whole audit trail.</p>
        </div>
      </header>
      <Tabs label="Instance administration" tabs={[
        { to: "/admin/users", label: "Users" },
        { to: "/admin/nodes", label: "Nodes" },
        { to: "/admin/encryption", label: "Encryption" },
        { to: "/admin/audit", label: "Audit log" },
      ]} />
      {!me.instanceRole && <p className="muted">These pages are for the instance's owners and admins; the API answers for itself below.</p>}
      <Outlet />
    </div>
  );
}
