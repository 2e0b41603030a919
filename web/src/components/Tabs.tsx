import { NavLink } from "react-router";

/** Tabs that are addresses: each tab is a link, so a tab can be reloaded, shared and opened in a new window. */
export function Tabs({ label, tabs }: { label: string; tabs: { to: string; label: string; end?: boolean }[] }) {
  return (
    <nav className="tabs" aria-label={label}>
      {tabs.map((tab) => (
        <NavLink key={tab.to} to={tab.to} end={tab.end} className={({ isActive }) => `tab${isActive ? " tab-active" : ""}`}>
          {tab.label}
        </NavLink>
      ))}
    </nav>
  );
}
