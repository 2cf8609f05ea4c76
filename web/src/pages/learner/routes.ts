import { lazy } from "preact-iso";
import type { AppRoute, NavItem } from "../../routes";

// The learner's pages, each loaded on demand: `{ path, component: lazy(() => import("./Page")), access }`.
export const learnerRoutes: AppRoute[] = [
  { path: "/", component: lazy(() => import("./Home")), access: "public" },
  // Emails link to /courses (the catalog) and /courses/{id}: the paths are part of the emails' contract.
  { path: "/courses", component: lazy(() => import("./Catalog")), access: "public" },
];

export const learnerNav: NavItem[] = [{ href: "/courses", label: "Catalog", show: () => true }];
