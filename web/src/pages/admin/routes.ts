import { lazy } from "preact-iso";
import { hasRole } from "../../api/session";
import type { AppRoute, NavItem } from "../../routes";

// The administrator's pages, each loaded on demand, under /administration: the Functions host keeps /admin/* for
// its own admin API (a deep link there would never reach the web app when the function app serves it).
export const adminRoutes: AppRoute[] = [
  { path: "/administration", component: lazy(() => import("./AdminHome")), access: "admin" },
  { path: "/administration/users", component: lazy(() => import("./Users")), access: "admin" },
  { path: "/administration/users/:userId", component: lazy(() => import("./User")), access: "admin" },
  { path: "/administration/audit-log", component: lazy(() => import("./AuditLog")), access: "admin" },
  { path: "/administration/dead-letters", component: lazy(() => import("./DeadLetters")), access: "admin" },
  { path: "/administration/webhooks", component: lazy(() => import("./Webhooks")), access: "admin" },
  { path: "/administration/webhooks/:webhookId", component: lazy(() => import("./Webhook")), access: "admin" },
];

export const adminNav: NavItem[] = [{ href: "/administration", label: "Admin", show: (user) => hasRole(user, "admin") }];
