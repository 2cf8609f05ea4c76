import { api, type Problem } from "../api/client";
import { useApi } from "./use-api";

/**
 * A course's title, for pages that show a course's part (gradebook, queue, analytics). `title` is null while it
 * loads or when it failed (`problem`); pages pass a fixed title to <Page> until then.
 */
export function useCourseTitle(courseId: string): { title: string | null; problem: Problem | null; loading: boolean } {
  const course = useApi(() => api.GET("/v1/courses/{courseId}", { params: { path: { courseId } } }), [courseId]);
  return { title: course.data?.title ?? null, problem: course.problem, loading: course.loading };
}
