import { lazy } from "preact-iso";
import { hasRole } from "../../api/session";
import type { AppRoute, NavItem } from "../../routes";

// The administrator's pages, each loaded on demand.
export const adminRoutes: AppRoute[] = [
  { path: "/admin", component: lazy(() => import("./AdminHome")), access: "admin" },
  { path: "/admin/users", component: lazy(() => import("./Users")), access: "admin" },
  { path: "/admin/users/:userId", component: lazy(() => import("./User")), access: "admin" },
  { path: "/admin/audit-log", component: lazy(() => import("./AuditLog")), access: "admin" },
  { path: "/admin/dead-letters", component: lazy(() => import("./DeadLetters")), access: "admin" },
  { path: "/admin/webhooks", component: lazy(() => import("./Webhooks")), access: "admin" },
  { path: "/admin/webhooks/:webhookId", component: lazy(() => import("./Webhook")), access: "admin" },
];

export const adminNav: NavItem[] = [{ href: "/admin", label: "Admin", show: (user) => hasRole(user, "admin") }];
