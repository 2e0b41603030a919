import { Outlet } from "react-router";
import { useSignedIn } from "../../app/session";
import { EmptyState, Tabs } from "../../components";

/**
 * The instance's administration (instance owners and admins): accounts, nodes, the encryption key and the
 * instance-wide audit log, one tab each. Anyone else who opens it by its address is told so, and the pages (which
 * would ask the API for what it refuses) are not rendered.
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
      {me.instanceRole ? (
        <>
          <Tabs label="Instance administration" tabs={[
            { to: "/admin/users", label: "Users" },
            { to: "/admin/nodes", label: "Nodes" },
            { to: "/admin/encryption", label: "Encryption" },
            { to: "/admin/audit", label: "Audit log" },
          ]} />
          <Outlet />
        </>
      ) : (
        <EmptyState title="You don't have access to this page">
          <p>These pages are for the instance's owners and admins; you have no instance role. An instance owner can give you one.</p>
        </EmptyState>
      )}
    </div>
  );
}
