import { lazy } from "preact-iso";
import type { AppRoute, NavItem } from "../../routes";

// The learner's pages, each loaded on demand. Paths marked ✉ are linked from emails
// (domain/notifications/templates.ts): they and their query parameters are part of the emails' contract.
export const learnerRoutes: AppRoute[] = [
  { path: "/", component: lazy(() => import("./Home")), access: "public" },
  // ✉ the catalog and a course
  { path: "/courses", component: lazy(() => import("./Catalog")), access: "public" },
  { path: "/courses/:courseId", component: lazy(() => import("./Course")), access: "public" },
  // ✉ a seat offer from the waitlist
  { path: "/courses/:courseId/offer", component: lazy(() => import("./Offer")), access: "signed-in" },
  { path: "/lessons/:lessonId", component: lazy(() => import("./Lesson")), access: "signed-in" },
  { path: "/certificates", component: lazy(() => import("./Certificates")), access: "signed-in" },
  { path: "/certificates/verify/:code", component: lazy(() => import("./VerifyCertificate")), access: "public" },
  // ✉ a course invitation (the guard signs the user in first, then comes back here)
  { path: "/invitations/accept", component: lazy(() => import("./CourseInvitation")), access: "signed-in" },
  { path: "/account", component: lazy(() => import("./Account")), access: "signed-in" },
  // ✉ stop a scheduled erasure (works signed out: the token is the proof)
  { path: "/account/erasure/cancel", component: lazy(() => import("./ErasureCancel")), access: "public" },
];

export const learnerNav: NavItem[] = [
  { href: "/courses", label: "Catalog", show: () => true },
  { href: "/certificates", label: "Certificates", show: (user) => Boolean(user) },
  { href: "/account", label: "Account", show: (user) => Boolean(user) },
];
