import type { AppRoute, NavItem } from "../../routes";

// The assessments pages, each loaded on demand: `{ path, component: lazy(() => import("./Page")), access }`.
export const assessmentsRoutes: AppRoute[] = [];

export const assessmentsNav: NavItem[] = [];
