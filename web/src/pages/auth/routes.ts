import { lazy } from "preact-iso";
import type { AppRoute } from "../../routes";

// Sign-in is on the first page most people open: it is in the entry chunk's neighbourhood, the rest load on demand.
export const authRoutes: AppRoute[] = [
  { path: "/sign-in", component: lazy(() => import("./SignIn")), access: "public" },
  { path: "/register", component: lazy(() => import("./Register")), access: "public" },
];
