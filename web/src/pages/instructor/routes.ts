import type { AppRoute, NavItem } from "../../routes";

// The instructor pages (helper-owned): each page lazily, `{ path, component: lazy(() => import("./Page")), access }`.
export const instructorRoutes: AppRoute[] = [];

export const instructorNav: NavItem[] = [];
