import { lazy } from "preact-iso";
import type { AppRoute, NavItem } from "../../routes";

// The community and school pages, each loaded on demand. Emails link to most of these paths
// (domain/notifications/templates.ts): they are part of the emails' contract (tests/unit/web-email-links.test.ts).
export const communityRoutes: AppRoute[] = [
  { path: "/notifications", component: lazy(() => import("./Notifications")), access: "signed-in" },
  { path: "/schedule", component: lazy(() => import("./Schedule")), access: "signed-in" },
  { path: "/courses/:courseId/announcements", component: lazy(() => import("./Announcements")), access: "signed-in" },
  { path: "/courses/:courseId/announcements/:announcementId", component: lazy(() => import("./Announcement")), access: "signed-in" },
  { path: "/courses/:courseId/discussions", component: lazy(() => import("./Forum")), access: "signed-in" },
  { path: "/discussions/:topicId", component: lazy(() => import("./Topic")), access: "signed-in" },
  { path: "/courses/:courseId/attendance", component: lazy(() => import("./Attendance")), access: "signed-in" },
  { path: "/sessions/:classSessionId/check-in", component: lazy(() => import("./CheckIn")), access: "signed-in" },
  { path: "/courses/:courseId/evaluations/:evaluationId", component: lazy(() => import("./Evaluation")), access: "signed-in" },
  { path: "/invoices", component: lazy(() => import("./Invoices")), access: "signed-in" },
  { path: "/invoices/:invoiceId", component: lazy(() => import("./Invoice")), access: "signed-in" },
  { path: "/leave", component: lazy(() => import("./Leave")), access: "signed-in" },
  { path: "/leave-applications/:applicationId", component: lazy(() => import("./LeaveApplication")), access: "signed-in" },
];

export const communityNav: NavItem[] = [
  { href: "/notifications", label: "Notifications", show: (user) => Boolean(user), unreadCount: true },
  { href: "/schedule", label: "Schedule", show: (user) => Boolean(user) },
];
