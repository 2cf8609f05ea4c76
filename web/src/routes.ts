import type { ComponentType } from "preact";
import type { User } from "./api/session";
import { adminNav, adminRoutes } from "./pages/admin/routes";
import { assessmentsNav, assessmentsRoutes } from "./pages/assessments/routes";
import { authRoutes } from "./pages/auth/routes";
import { communityNav, communityRoutes } from "./pages/community/routes";
import { instructorNav, instructorRoutes } from "./pages/instructor/routes";
import { learnerNav, learnerRoutes } from "./pages/learner/routes";

/**
 * Who may open a page: anyone, anyone signed in, course staff (instructors and graders of some course, and
 * administrators), administrators. The API decides what each caller may see; this only keeps menus and pages
 * from offering what would be refused.
 */
export type PageAccess = "public" | "signed-in" | "staff" | "admin";

export interface AppRoute {
  /** A preact-iso path: `/courses/:courseId`. */
  path: string;
  // Pages take their path parameters as props.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  component: ComponentType<any>;
  access: PageAccess;
}

export interface NavItem {
  href: string;
  label: string;
  show: (user: User | null) => boolean;
  /** The link also says how many notifications are unread (a badge, and in words for screen readers). */
  unreadCount?: true;
}

/** Every page of the app, by area (each area's own file lists its pages, loaded lazily). */
export const routes: AppRoute[] = [...authRoutes, ...learnerRoutes, ...assessmentsRoutes, ...communityRoutes, ...instructorRoutes, ...adminRoutes];

/** The main menu, in order. */
export const nav: NavItem[] = [...learnerNav, ...assessmentsNav, ...communityNav, ...instructorNav, ...adminNav];
