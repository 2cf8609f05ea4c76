import { lazy } from "preact-iso";
import { isStaff } from "../../api/session";
import type { AppRoute, NavItem } from "../../routes";

// The instructor's pages (teaching and grading), each loaded on demand. "staff" only keeps the pages from people
// who teach nothing; the API decides per course.
export const instructorRoutes: AppRoute[] = [
  { path: "/teach", component: lazy(() => import("./Teach")), access: "staff" },
  // Not /courses/new: preact-iso takes the first match, and the learner's /courses/:courseId comes first.
  { path: "/teach/new", component: lazy(() => import("./NewCourse")), access: "staff" },
  { path: "/courses/:courseId/manage", component: lazy(() => import("./ManageCourse")), access: "staff" },
  { path: "/courses/:courseId/manage/content", component: lazy(() => import("./CourseContent")), access: "staff" },
  { path: "/courses/:courseId/manage/assessments/new", component: lazy(() => import("./NewAssessment")), access: "staff" },
  { path: "/courses/:courseId/grading", component: lazy(() => import("./GradingQueue")), access: "staff" },
  { path: "/submissions/:submissionId/grade", component: lazy(() => import("./GradeSubmission")), access: "staff" },
  { path: "/courses/:courseId/gradebook", component: lazy(() => import("./Gradebook")), access: "staff" },
  { path: "/courses/:courseId/analytics", component: lazy(() => import("./Analytics")), access: "staff" },
];

export const instructorNav: NavItem[] = [{ href: "/teach", label: "Teaching", show: isStaff }];
