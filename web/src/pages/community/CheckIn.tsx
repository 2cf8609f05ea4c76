import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Field, fieldError } from "../../components/Field";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";

/** Self check-in to a class session with the code its staff show in the room. */
export default function CheckIn({ classSessionId }: { classSessionId: string }) {
  const session = useApi(() => api.GET("/v1/sessions/{classSessionId}", { params: { path: { classSessionId } } }), [classSessionId]);
  const action = useAction();
  const [code, setCode] = useState("");
  const [status, setStatus] = useState("");

  const submit = async (e: Event) => {
    e.preventDefault();
    const marked = await action.run(() => api.POST("/v1/sessions/{classSessionId}/check-in/code", { params: { path: { classSessionId } }, body: { code: code.trim() } }));
    if (marked) setStatus(marked.status === "late" ? "You are checked in, marked late." : "You are checked in, marked present.");
  };

  return (
    <Page title="Check in">
      <Problem problem={session.problem} />
      {session.data ? (
        <p>
          {session.data.title}: {formatDateTime(session.data.startsAt)} – {formatDateTime(session.data.endsAt)}
          {session.data.location ? ` · ${session.data.location}` : ""}
        </p>
      ) : null}
      <p role="status">{status}</p>
      <form class="narrow" onSubmit={submit}>
        <Field label="Check-in code" name="code" autocomplete="off" required value={code} error={fieldError(action.problem, "body.code")} onInput={(e) => setCode(e.currentTarget.value)} />
        <Problem problem={action.problem} />
        <button type="submit" disabled={action.pending}>
          Check in
        </button>
      </form>
      {session.data ? (
        <p>
          <a href={`/courses/${session.data.courseId}/attendance`}>My attendance in this course</a>
        </p>
      ) : null}
    </Page>
  );
}
