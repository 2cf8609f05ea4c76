import { lazy } from "preact-iso";
import type { AppRoute } from "../../routes";

// Sign-in is on the first page most people open: it is in the entry chunk's neighbourhood, the rest load on demand.
// The other paths are linked from emails (domain/notifications/templates.ts): they are part of the emails' contract.
export const authRoutes: AppRoute[] = [
  { path: "/sign-in", component: lazy(() => import("./SignIn")), access: "public" },
  { path: "/register", component: lazy(() => import("./Register")), access: "public" },
  { path: "/verify-email", component: lazy(() => import("./VerifyEmail")), access: "public" },
  { path: "/forgot-password", component: lazy(() => import("./ForgotPassword")), access: "public" },
  { path: "/reset-password", component: lazy(() => import("./ResetPassword")), access: "public" },
  { path: "/accept-invitation", component: lazy(() => import("./AcceptInvitation")), access: "public" },
];
