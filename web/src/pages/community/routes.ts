import type { AppRoute, NavItem } from "../../routes";

// The community pages, each loaded on demand: `{ path, component: lazy(() => import("./Page")), access }`.
export const communityRoutes: AppRoute[] = [];

export const communityNav: NavItem[] = [];
