import { lazy } from "preact-iso";
import type { AppRoute, NavItem } from "../../routes";

// The learner's pages, each loaded on demand: `{ path, component: lazy(() => import("./Page")), access }`.
export const learnerRoutes: AppRoute[] = [
  { path: "/", component: lazy(() => import("./Home")), access: "public" },
  { path: "/catalog", component: lazy(() => import("./Catalog")), access: "public" },
];

export const learnerNav: NavItem[] = [{ href: "/catalog", label: "Catalog", show: () => true }];
