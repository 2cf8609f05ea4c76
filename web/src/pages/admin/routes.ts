import type { AppRoute, NavItem } from "../../routes";

// The admin pages (helper-owned): each page lazily, `{ path, component: lazy(() => import("./Page")), access }`.
export const adminRoutes: AppRoute[] = [];

export const adminNav: NavItem[] = [];
