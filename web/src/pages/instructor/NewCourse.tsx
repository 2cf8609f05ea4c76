import { useLocation } from "preact-iso";
import { api } from "../../api/client";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useAction } from "../../lib/use-api";
import { CourseSettingsForm, settingsOf } from "./course-settings-form";

/** A new draft course; it opens on its manage page, where content is added and it is published. */
export default function NewCourse() {
  const { route } = useLocation();
  const action = useAction();
  return (
    <Page title="New course">
      <Problem problem={action.problem} />
      <CourseSettingsForm
        initial={settingsOf(null)}
        submitLabel="Create draft course"
        pending={action.pending}
        problem={action.problem}
        onSubmit={async (settings) => {
          const course = await action.run(() => api.POST("/v1/courses", { body: settings }));
          if (course) route(`/courses/${course.id}/manage`);
        }}
      />
    </Page>
  );
}
