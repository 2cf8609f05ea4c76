import { lazy } from "preact-iso";
import type { AppRoute, NavItem } from "../../routes";

// The assessments pages, each loaded on demand. Emails and the calendar feed link to /assessments/{id},
// /submissions/{id}, /grades/{id} and /courses/{id}/grades: those paths are part of their contract.
export const assessmentsRoutes: AppRoute[] = [
  { path: "/assessments/:assessmentId", component: lazy(() => import("./Assessment")), access: "signed-in" },
  { path: "/attempts/:attemptId", component: lazy(() => import("./Attempt")), access: "signed-in" },
  { path: "/submissions", component: lazy(() => import("./Submissions")), access: "signed-in" },
  { path: "/submissions/:submissionId", component: lazy(() => import("./Submission")), access: "signed-in" },
  { path: "/grades", component: lazy(() => import("./Grades")), access: "signed-in" },
  { path: "/grades/:gradeId", component: lazy(() => import("./GradeExplanation")), access: "signed-in" },
  { path: "/courses/:courseId/grades", component: lazy(() => import("./Grades")), access: "signed-in" },
];

export const assessmentsNav: NavItem[] = [{ href: "/grades", label: "Grades", show: (user) => Boolean(user) }];
