// The console's shell: login gate, navigation, routes, and the dialog and
// toast hosts. Each page is a module in pages/ that talks to the admin API.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Link, Redirect, Route, Switch, useLocation } from "wouter-preact";
import { api } from "./api/client";
import { ConfirmHost, ToastHost } from "./components/dialog";
import { useSession } from "./lib/hooks";
import { session } from "./lib/session";
import Login from "./pages/Login";
import Dashboard from "./pages/Dashboard";
import Providers from "./pages/Providers";
import Models from "./pages/Models";
import Services from "./pages/Services";
import Consumers from "./pages/Consumers";
import Subscriptions from "./pages/Subscriptions";
import Prompts from "./pages/Prompts";
import Logs from "./pages/Logs";
import Analytics from "./pages/Analytics";
import Audit from "./pages/Audit";
import Users from "./pages/Users";
import Teams from "./pages/Teams";

interface NavItem { href: string; label: string; admin?: boolean }

const nav: { section: string; items: NavItem[] }[] = [
  { section: "Overview", items: [{ href: "/", label: "Dashboard" }, { href: "/analytics", label: "Analytics" }, { href: "/logs", label: "Call log" }] },
  { section: "Gateway", items: [{ href: "/providers", label: "Providers" }, { href: "/models", label: "Models & routes" }, { href: "/services", label: "Services" }, { href: "/prompts", label: "Prompts" }] },
  { section: "Access", items: [{ href: "/consumers", label: "Consumers & keys" }, { href: "/subscriptions", label: "Subscriptions" }] },
  { section: "Administration", items: [{ href: "/audit", label: "Audit log" }, { href: "/users", label: "Users", admin: true }, { href: "/teams", label: "Teams", admin: true }] },
];

function isActive(href: string, location: string): boolean {
  return href === "/" ? location === "/" : location === href || location.startsWith(href + "/");
}

function Shell(props: { children: ComponentChildren }) {
  const s = useSession();
  const [location] = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [location]);
  const logout = async () => {
    try { await api.post("/logout"); } catch { /* the session ends either way */ }
    session.end();
  };
  return (
    <div class="shell">
      <a class="skip-link" href="#main">Skip to content</a>
      <aside class={menuOpen ? "sidebar open" : "sidebar"}>
        <div class="brand">
          <Link href="/" class="brand-link"><span class="logo" aria-hidden="true">≋</span> Sluice</Link>
          <button type="button" class="icon-btn menu-toggle" aria-label="Menu" aria-expanded={menuOpen} onClick={() => setMenuOpen(!menuOpen)}>☰</button>
        </div>
        <nav aria-label="Main" class="nav">
          {nav.map((g) => {
            const items = g.items.filter((i) => !i.admin || session.isAdmin);
            return items.length === 0 ? null : (
              <div class="nav-group">
                <div class="nav-section">{g.section}</div>
                {items.map((i) => (
                  <Link href={i.href} class={isActive(i.href, location) ? "nav-link active" : "nav-link"} aria-current={isActive(i.href, location) ? "page" : undefined}>{i.label}</Link>
                ))}
              </div>
            );
          })}
        </nav>
        <div class="whoami">
          <div class="who" title={s?.user.email}>{s?.user.name || s?.user.email}</div>
          <div class="muted small">{s?.user.role}</div>
          <button type="button" class="btn btn-ghost" onClick={logout}>Log out</button>
        </div>
      </aside>
      <main id="main" class="content" tabIndex={-1}>{props.children}</main>
    </div>
  );
}

export function App() {
  const s = useSession();
  const [location] = useLocation();
  if (!s) {
    if (location === "/login") return <><Login /><ToastHost /></>;
    const next = location === "/" ? "" : "?next=" + encodeURIComponent(location + window.location.search);
    return <Redirect to={"/login" + next} replace />;
  }
  return (
    <>
      <Shell>
        <Switch>
          <Route path="/login"><Redirect to="/" replace /></Route>
          <Route path="/" component={Dashboard} />
          <Route path="/analytics" component={Analytics} />
          <Route path="/logs" component={Logs} />
          <Route path="/logs/:id" component={Logs} />
          <Route path="/providers" component={Providers} />
          <Route path="/providers/:id" component={Providers} />
          <Route path="/models" component={Models} />
          <Route path="/models/:id" component={Models} />
          <Route path="/services" component={Services} />
          <Route path="/services/:id" component={Services} />
          <Route path="/prompts" component={Prompts} />
          <Route path="/prompts/:id" component={Prompts} />
          <Route path="/consumers" component={Consumers} />
          <Route path="/consumers/:id" component={Consumers} />
          <Route path="/subscriptions" component={Subscriptions} />
          <Route path="/audit" component={Audit} />
          <Route path="/users" component={Users} />
          <Route path="/teams" component={Teams} />
          <Route>
            <div class="empty"><h1>Not found</h1><p>No page at {location}. <Link href="/">Go to the dashboard</Link>.</p></div>
          </Route>
        </Switch>
      </Shell>
      <ConfirmHost />
      <ToastHost />
    </>
  );
}
